"""Local HTTP servers that speak the SaaS APIs, for the real client libraries to talk to."""
