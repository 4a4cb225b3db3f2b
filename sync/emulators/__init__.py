"""In-package emulators of the HTTP APIs neon-sync talks to, for tests and `neon-sync demo`."""
