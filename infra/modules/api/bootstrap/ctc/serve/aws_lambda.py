"""Bootstrap code of the API function, replaced by `ctc deploy` with the real package.

Terraform creates the function before any ctc code is uploaded; until then every request
is answered 503 with what to do, never with made-up data.
"""

import json


def lambda_handler(event, context=None):
    """Answer 503: the API's code has not been deployed yet."""
    body = {"error": "the ctc API is not deployed yet: run `ctc deploy` (docs/deploy.md)"}
    return {
        "statusCode": 503,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
