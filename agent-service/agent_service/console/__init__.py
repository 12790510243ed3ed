"""The web console under /console/: sign-in, incidents, actions, ask the copilot, golden signals."""
