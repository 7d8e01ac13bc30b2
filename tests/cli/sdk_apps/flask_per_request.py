"""A Flask app with its own literal credentials, building a client for every request,
with an edge and region set as apps outside the US do. No twsim in sight."""

import os

from flask import Flask, request
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

ACCOUNT_SID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
AUTH_TOKEN = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

app = Flask(__name__)


@app.route("/sms", methods=["POST"])
def sms():
    client = Client(ACCOUNT_SID, AUTH_TOKEN, edge="sydney", region="au1")
    client.messages.create(
        to="+12025550199", from_=request.form["To"], body="New text: " + request.form["Body"]
    )
    reply = MessagingResponse()
    reply.message("Thanks for your text!")
    return str(reply)


@app.route("/services")
def services():
    try:
        Client(ACCOUNT_SID, AUTH_TOKEN).messaging.v1.services.list()
    except Exception as exc:
        return str(exc), 502
    return "listed", 200


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]))
