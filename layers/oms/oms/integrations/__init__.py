"""Integrations: webhooks other systems send in (carriers' tracking, a 3PL's stock, anything else), each
verified by its scheme's signature, queued, then applied once."""
