"""The local provider's runtime actions, one module per group (training, registry, serving,
features, monitoring). provider.ACTIONS maps each `(kind, action)` to its function here; each
is imported on first use, so plan and validate never load scikit-learn or the HTTP server."""
