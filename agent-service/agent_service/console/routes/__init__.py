"""The console's routes, one module per page group; each thin, calling services and renderers."""
