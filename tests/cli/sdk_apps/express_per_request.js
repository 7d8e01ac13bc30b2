// An Express app with its own literal credentials, building a client for every request,
// with an edge and region set as apps outside the US do. No twsim in sight.
const express = require('express');
const twilio = require('twilio');

const accountSid = 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const authToken = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const app = express();
app.use(express.urlencoded({ extended: false }));

app.post('/sms', (req, res) => {
  const client = twilio(accountSid, authToken, { edge: 'sydney', region: 'au1' });
  client.messages
    .create({ to: '+12025550199', from: req.body.To, body: `New text: ${req.body.Body}` })
    .then(() => {
      const reply = new twilio.twiml.MessagingResponse();
      reply.message('Thanks for your text!');
      res.type('text/xml').send(reply.toString());
    })
    .catch((err) => res.status(500).send(String(err.message)));
});

app.get('/services', (req, res) => {
  twilio(accountSid, authToken).messaging.v1.services.list()
    .then(() => res.send('listed'))
    .catch((err) => res.status(502).send(String(err.message)));
});

app.listen(Number(process.env.PORT), '127.0.0.1');
