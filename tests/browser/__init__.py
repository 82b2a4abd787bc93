"""Real-browser tests: Chromium driven by Playwright against the app on a live server."""
