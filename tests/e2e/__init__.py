"""Browser tests: Playwright on Chromium against a real server with demo data."""
