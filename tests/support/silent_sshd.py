#!/usr/bin/env python3
"""An SSH server that runs each command with `sh -c` and closes its channel without ever
sending the command's exit status, as some embedded and non-OpenSSH servers do. It is
for the test that switchyard never reads a missing exit status as success.

usage: silent_sshd.py ADDRESS PORT HOST_KEY CLIENT_PUBLIC_KEY
Prints "ready" on stdout once it listens; serves until killed.
Needs paramiko (scripts/test installs it).
"""
import socket
import subprocess
import sys
import threading
import time

import paramiko


def main():
    address, port, host_key_file, client_pub = sys.argv[1:5]
    host_key = paramiko.Ed25519Key(filename=host_key_file)
    allowed = open(client_pub).read().split()[1]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, int(port)))
    listener.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, host_key, allowed), daemon=True).start()


class Server(paramiko.ServerInterface):
    def __init__(self, allowed):
        self.allowed = allowed

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_publickey(self, username, key):
        if key.get_base64() == self.allowed:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_exec_request(self, channel, command):
        threading.Thread(target=run, args=(channel, command), daemon=True).start()
        return True


def serve(conn, host_key, allowed):
    transport = paramiko.Transport(conn)
    transport.add_server_key(host_key)
    transport.start_server(server=Server(allowed))
    # Channels are served by their exec request; accept() would hand each one back here,
    # to be closed when dropped.
    while transport.is_active():
        time.sleep(0.5)


def run(channel, command):
    # Let paramiko answer the exec request before any output goes out.
    time.sleep(0.05)
    p = subprocess.Popen(
        ["sh", "-c", command],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def pump(stream, send):
        for chunk in iter(lambda: stream.read1(65536), b""):
            send(chunk)

    def feed():
        # The channel's stdin, held open until the client sends EOF (its watchdog).
        try:
            for chunk in iter(lambda: channel.recv(65536), b""):
                p.stdin.write(chunk)
                p.stdin.flush()
        except (OSError, EOFError):
            pass
        try:
            p.stdin.close()
        except OSError:
            pass

    readers = [
        threading.Thread(target=pump, args=(p.stdout, channel.sendall)),
        threading.Thread(target=pump, args=(p.stderr, channel.sendall_stderr)),
    ]
    for t in readers:
        t.start()
    threading.Thread(target=feed, daemon=True).start()
    for t in readers:
        t.join()
    p.wait()
    # No send_exit_status(): the point of this server.
    channel.shutdown_write()
    channel.close()


if __name__ == "__main__":
    main()
