"""The web plumbing in front of the pages: which browser and session may use a page's socket."""
