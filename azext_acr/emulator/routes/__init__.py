"""HTTP handlers, one module per API. They parse, authorise, call the model and render; nothing more."""
