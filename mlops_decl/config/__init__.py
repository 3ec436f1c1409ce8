"""Config loading: YAML with positions, project discovery, variables and expressions."""
