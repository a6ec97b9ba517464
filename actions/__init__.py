"""rasa-sdk actions, one module per feature. Thin: they read slots and call `knowledge`."""
