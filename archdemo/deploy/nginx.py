"""nginx in front of the app's replicas (archdemo/replicas.py): its configuration, and the affinity it keeps.

Session affinity. A Gradio session lives in one process: ``POST /gradio_api/queue/join`` and the
``GET /gradio_api/queue/data?session_hash=...`` stream that answers it, an upload and the call that
uses its path, the download of an output file, all must reach the same replica. nginx hashes each
request on ``$affinity`` (``hash ... consistent``): the ``archdemo_replica`` cookie when the request
carries it, else the client's address. The first answer to a client without the cookie sets it to
that request's random ``$request_id``, so clients spread over the replicas and each then stays on
one. Browsers keep cookies; so does ``gradio_client``: it keeps the cookies of its first request
(``GET /config``) and sends them with every later one (gradio_client/client.py, ``_get_config``).
A client that drops cookies (``curl`` without a cookie jar) is pinned by its address instead, which
keeps its join and data stream together too. The session hash itself cannot be the key: the data
stream carries it in the URL, but the join carries it only in its JSON body, which stock nginx does
not read.

Everything nginx writes (pid file, logs, temporary files) goes to the run dir, so it runs unprivileged.
"""

from __future__ import annotations

import os
from pathlib import Path

COOKIE = "archdemo_replica"
# The app caps uploads at 10 MB (app.py: max_file_size); the form around the file needs a little more.
# nginx's own default (1 MB) would refuse photos of digits before Gradio could say why.
MAX_BODY = "12m"
# nginx closes its idle connections to a replica first: the replicas keep theirs 75 s
# (archdemo/ui/serving.py, KEEP_ALIVE_S), so a request never goes out on one a replica is closing.
UPSTREAM_IDLE_S = 60


def nginx_conf(run_dir: Path, host: str, port: int, upstream_ports: list[int]) -> str:
    """nginx.conf for the public ``host:port`` in front of the replicas, everything it writes in run_dir."""
    listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in upstream_ports)
    # As root, nginx would run its workers as "nobody", who cannot enter a private run dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 2;  # a few thousand requests/s each: the apps are the bottleneck
pid {run_dir}/nginx.pid;
error_log {run_dir}/error.log warn;
events {{ worker_connections 4096; }}

http {{
    client_body_temp_path {run_dir}/client_body;
    proxy_temp_path {run_dir}/proxy;
    fastcgi_temp_path {run_dir}/fastcgi;
    uwsgi_temp_path {run_dir}/uwsgi;
    scgi_temp_path {run_dir}/scgi;
    log_format replicas '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                        'upstream=$upstream_addr key=$affinity time=$request_time';
    access_log {run_dir}/access.log replicas;

    # The affinity key: the cookie when the client has one, else its address (see archdemo/replicas.py).
    map $cookie_{COOKIE} $affinity {{
        ""      $remote_addr;
        default $cookie_{COOKIE};
    }}
    map $cookie_{COOKIE} $set_affinity {{
        ""      "{COOKIE}=$request_id; Path=/; HttpOnly; SameSite=Lax";
        default "";
    }}
    # An empty Connection header lets nginx keep its connections to the replicas open between requests.
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ""      "";
    }}

    upstream archdemo {{
        hash $affinity consistent;
{servers}
        keepalive 64;
        keepalive_timeout {UPSTREAM_IDLE_S}s;
    }}

    server {{
        listen {listen};
        client_max_body_size {MAX_BODY};
        location / {{
            proxy_pass http://archdemo;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            # Gradio builds the URLs of files and of its API from these (gradio/route_utils.py);
            # $http_host keeps the port, which $host would drop.
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # Server-sent events (the queue's results) must reach the client as they are written.
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
            add_header Set-Cookie $set_affinity always;
        }}
    }}
}}
"""
