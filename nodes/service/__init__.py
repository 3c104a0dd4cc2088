"""Web service nodes: where requests enter and responses leave a scoring pipeline,
and the trained models and fitted transforms that a published pipeline carries."""
