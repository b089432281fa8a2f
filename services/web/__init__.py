"""HTTP/ASGI plumbing in front of NiceGUI's routes: which browser and session may use a page's socket, upload
limits. No domain rules here."""
