"""A bare Flask route, served like the API (the reference for request throughput)."""

from flask import Flask

app = Flask(__name__)


@app.get("/bare")
def bare():
    return {"ok": True}
