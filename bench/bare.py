"""A bare Flask route, served like the API (the reference for request throughput)."""

from flask import Flask

app = Flask(__name__)


@app.route("/bare", methods=["GET", "POST"])
def bare():
    # POST too: the task-overhead case's floor sends the job API's request shape here.
    return {"ok": True}
