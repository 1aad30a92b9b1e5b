"""What `make run` prints before serving: where to go and how to log in."""

import os
import sys

host, port = sys.argv[1], sys.argv[2]
password = os.environ.get("BAZRES_DEMO_PASSWORD", "bazres-demo")
base = f"http://{host}:{port}"
print(f"""
Bazres is starting on {base}/

  Start page (log in, see districts and offices): {base}/
  API docs (Swagger UI):                          {base}/api/v1/docs
  OpenAPI document:                               {base}/api/v1/openapi.json

Demo logins (password: {password}):
  admin                          admin
  committee1, committee2         disciplinary committee, all districts
  head-1 … head-22               district heads, one district each
  inspector-1a, inspector-1b … inspector-22a, inspector-22b
                                 inspectors, two per district

  curl -s -X POST {base}/api/v1/auth/token -H 'Content-Type: application/json' \\
       -d '{{"username": "inspector-6a", "password": "{password}"}}'
""", flush=True)
