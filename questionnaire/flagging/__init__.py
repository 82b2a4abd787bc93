"""The app's rule table: loaded and bound to the catalogue, its impact, and `flask rules …`."""
