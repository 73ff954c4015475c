"""Webhooks: events from state changes (events.py), Standard Webhooks signatures (signing.py), the payload a
receiver gets (payload.py), one delivery attempt and the retry schedule (delivery.py), the project's signing
secret (secrets.py). The outbox itself is in the stores; the senders are local/webhook_sender.py and the AWS
delivery function (aws/webhooks.py)."""
