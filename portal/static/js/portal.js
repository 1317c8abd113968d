// Small behaviours, no inline script (the content security policy forbids it).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// A table wider than its box scrolls sideways: make the box reachable by keyboard.
document.querySelectorAll(".table-responsive").forEach((box) => {
  if (box.scrollWidth > box.clientWidth) {
    box.tabIndex = 0;
  }
});
