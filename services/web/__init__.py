"""HTTP plumbing that sits in front of NiceGUI's routes (pure ASGI middleware); no domain rules here."""
