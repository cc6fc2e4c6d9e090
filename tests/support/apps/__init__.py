"""Small applications the end-to-end tests run under real servers (gunicorn, uvicorn)."""
