"""Amazon's side: SP-API notification shapes and the SP-API client."""
