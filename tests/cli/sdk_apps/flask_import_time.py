"""A Flask app as Twilio's samples write it: client built at import time, credentials from
the environment (Client() reads TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN). No twsim in sight."""

import os

from flask import Flask, request
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

app = Flask(__name__)
client = Client()


@app.route("/sms", methods=["POST"])
def sms():
    client.messages.create(
        to="+12025550199", from_=request.form["To"], body="New text: " + request.form["Body"]
    )
    reply = MessagingResponse()
    reply.message("Thanks for your text!")
    return str(reply)


@app.route("/services")
def services():
    try:
        client.messaging.v1.services.list()
    except Exception as exc:
        return str(exc), 502
    return "listed", 200


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]))
