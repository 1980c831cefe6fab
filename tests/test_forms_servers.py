"""A 100 MB upload through a real server streams to disk and never stalls the event loop."""

import hashlib
import threading
import time

import httpx
import pytest

from servers import serve

SIZE = 100 * 1024 * 1024
CHUNK = b"0123456789abcdef" * 4096  # 64 KiB
BOUNDARY = "fasterapi-test-boundary"


def multipart_stream():
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    sent = 0
    while sent < SIZE:
        yield CHUNK
        sent += len(CHUNK)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.mark.parametrize("server", ["uvicorn-httptools", "granian-asgi", "granian-rsgi"])
def test_upload_100mb_streams_while_health_answers_fast(server):
    expected = hashlib.sha256()
    for _ in range(SIZE // len(CHUNK)):
        expected.update(CHUNK)
    latencies: list[float] = []
    done = threading.Event()

    with serve(server, "serverapps.realtime:app") as base:

        def probe():
            with httpx.Client(base_url=f"http://{base}") as probe_client:
                while not done.is_set():
                    start = time.perf_counter()
                    assert probe_client.get("/health").status_code == 200
                    latencies.append(time.perf_counter() - start)
                    time.sleep(0.02)

        prober = threading.Thread(target=probe)
        prober.start()
        try:
            with httpx.Client(base_url=f"http://{base}", timeout=120) as client:
                response = client.post(
                    "/upload",
                    content=multipart_stream(),
                    headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
                )
        finally:
            done.set()
            prober.join()
    assert response.status_code == 200
    assert response.json() == {"size": SIZE, "sha256": expected.hexdigest()}
    assert len(latencies) >= 5
    latencies.sort()
    # the slowest probe during the upload (a small allowance for a 2-core machine)
    assert latencies[int(len(latencies) * 0.95)] < 0.05, latencies[-5:]
