# A stream client that stops reading: a tiny receive buffer, one GET, then it sleeps without reading
# until killed or the time limit passes. Node cannot shrink a TCP socket's buffers, and loopback
# autotuning would otherwise absorb megabytes before the proxy's own queue sees any backlog.
import socket, sys, time
host, port, path, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((host, port))
s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
print("sent", flush=True)
time.sleep(limit)
