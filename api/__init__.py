"""HTTP API and staff web page of EXPE-CT Match (FastAPI). The app is :data:`api.main.app`."""
