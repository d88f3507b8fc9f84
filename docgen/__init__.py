"""Documentation generated from the code: the AsyncAPI document of the bus and the JSON Schemas of the contracts."""
