// Starts Swagger UI (served from portal/static/vendor) on the portal's OpenAPI document.
window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
  });
});
