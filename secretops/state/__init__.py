"""The state seam (see `secretops.state.interface`)."""
