"""Unit tests for lbbake-vrrp-state.py, the VRRP state tracker keepalived runs (python3 -m
unittest discover -s agent). Its run under real keepalived and haproxy: test/live/observe.test.ts."""

import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "lbbake-vrrp-state.py")
SPEC = importlib.util.spec_from_file_location("lbbake_vrrp_state", SCRIPT)
tracker = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(tracker)


class ApplyTest(unittest.TestCase):
    def test_counts_each_reported_state_and_keeps_the_last_ten(self):
        st = {}
        lines = ['INSTANCE "VI_c1" BACKUP 250', 'INSTANCE "VI_c1" MASTER 250', 'INSTANCE "VI_c1" FAULT 250']
        for i, line in enumerate(lines * 4):
            self.assertTrue(tracker.apply(st, line, 1000.0 + i))
        self.assertEqual(st["transitions"], {"BACKUP": 4, "MASTER": 4, "FAULT": 4})
        self.assertEqual((st["state"], st["priority"], st["instance"], st["since"]), ("FAULT", 250, "VI_c1", 1011.0))
        self.assertEqual(len(st["history"]), 10)
        self.assertEqual(st["history"][-1], {"at": 1011.0, "state": "FAULT", "priority": 250})

    def test_the_current_state_repeated_is_not_a_change(self):
        # keepalived's fifo_write_vrrp_states_on_reload repeats it after every reload
        st = {}
        self.assertTrue(tracker.apply(st, 'INSTANCE "VI_c1" MASTER 250', 1.0))
        self.assertFalse(tracker.apply(st, 'INSTANCE "VI_c1" MASTER 248', 2.0))
        self.assertEqual((st["transitions"], st["since"], st["priority"], len(st["history"])), ({"MASTER": 1}, 1.0, 248, 1))

    def test_stop_is_kept_but_not_counted_and_other_lines_are_ignored(self):
        st = {}
        self.assertTrue(tracker.apply(st, 'INSTANCE "VI_c1" STOP 249', 5.0))
        self.assertEqual((st["state"], st.get("transitions")), ("STOP", None))
        for line in ['GROUP "G" MASTER 250', 'INSTANCE "VI_c1" DELETED 250', 'INSTANCE "VI_c1" MASTER',
                     'INSTANCE "VI_c1" MASTER x', "", "garbage"]:
            self.assertFalse(tracker.apply(st, line, 6.0), line)
        self.assertEqual(st["state"], "STOP")


class HoldTest(unittest.TestCase):
    def test_one_while_master_else_zero_like_vrrp_holder(self):
        with tempfile.TemporaryDirectory() as d:
            f = os.path.join(d, "holder")
            got = []
            for line in ['INSTANCE "VI_c1" BACKUP 250', 'INSTANCE "VI_c1" MASTER 250', 'INSTANCE "VI_c1" MASTER 250',
                         'GROUP "G" BACKUP 1', 'INSTANCE "VI_c1" FAULT 250', 'INSTANCE "VI_c1" DELETED 250']:
                tracker.hold(f, line)
                with open(f) as h:
                    got.append(h.read())
            self.assertEqual(got, ["0\n", "1\n", "1\n", "1\n", "0\n", "0\n"])
            tracker.hold("", 'INSTANCE "VI_c1" MASTER 250')  # no hold= argument: nothing written


class ValuesTest(unittest.TestCase):
    def test_one_hot_state_counts_and_stop_while_keepalived_is_not_running(self):
        st = {"state": "MASTER", "priority": 250, "since": 1796571448.08, "keepalived": "running",
              "transitions": {"BACKUP": 1, "MASTER": 2}}
        v = tracker.values(st, None)
        self.assertEqual([v[s] for s in ("MASTER", "BACKUP", "FAULT", "STOP")], [1, 0, 0, 0])
        self.assertEqual((v["n.MASTER"], v["n.BACKUP"], v["n.FAULT"], v["prio"], v["since"]), (2, 1, 0, 250, 1796571448))
        self.assertLessEqual(abs(v["published"] - time.time()), 2)
        self.assertNotIn("cloud.owner", v)
        st["keepalived"] = "stopped"
        self.assertEqual([tracker.values(st, None)[s] for s in ("MASTER", "STOP")], [0, 1])

    def test_cloud_owner_file(self):
        with tempfile.TemporaryDirectory() as d:
            f = os.path.join(d, "cloud-owner.json")
            self.assertEqual((tracker.values({}, f)["cloud.owner"], tracker.values({}, f)["cloud.at"]), (0, 0))
            with open(f, "w") as out:
                json.dump({"owner": True, "checked": 1796571500.5, "detail": "route rtb-1 -> eni-1"}, out)
            v = tracker.values({}, f)
            self.assertEqual((v["cloud.owner"], v["cloud.at"]), (1, 1796571500))
            with open(f, "w") as out:
                json.dump({"owner": "yes", "checked": "soon"}, out)
            v = tracker.values({}, f)
            self.assertEqual((v["cloud.owner"], v["cloud.at"]), (0, 0))


class CloudOwnerTest(unittest.TestCase):
    def test_lbbake_vip_writes_the_file_the_tracker_reads(self):
        with tempfile.TemporaryDirectory() as d:
            os.environ["LBBAKE_RUN_DIR"] = d
            try:
                spec = importlib.util.spec_from_file_location("lbbake_vip", os.path.join(HERE, "lbbake-vip.py"))
                vip = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(vip)
            finally:
                del os.environ["LBBAKE_RUN_DIR"]
            self.assertEqual(vip.OWNER, os.path.join(d, "cloud-owner.json"))
            vip.owner(False, "eni-2 holds it")
            self.assertEqual((tracker.values({}, vip.OWNER)["cloud.owner"], tracker.load(vip.OWNER)["detail"]), (0, "eni-2 holds it"))
            vip.owner(True, "assigned to eni-1")
            v = tracker.values({}, vip.OWNER)
            self.assertEqual(v["cloud.owner"], 1)
            self.assertLessEqual(abs(v["cloud.at"] - time.time()), 2)


class RunTest(unittest.TestCase):
    """The tracker as keepalived runs it: a FIFO, SIGTERM, and a unix socket standing in for haproxy's."""

    def test_fifo_to_state_file_and_table_commands_then_stop_on_sigterm(self):
        with tempfile.TemporaryDirectory() as d:
            fifo, state, sock = (os.path.join(d, n) for n in ("vrrp.fifo", "run/vrrp.json", "admin.sock"))
            os.mkfifo(fifo)
            got = []
            srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            srv.bind(sock)
            srv.listen(8)
            srv.settimeout(20)

            def serve():
                try:
                    while True:
                        c, _ = srv.accept()
                        got.append(c.recv(65536).decode())
                        c.sendall(b"\n")
                        c.close()
                except OSError:
                    pass

            threading.Thread(target=serve, daemon=True).start()
            writer = os.open(fifo, os.O_RDWR)  # keepalived holds the FIFO open like this
            proc = subprocess.Popen([sys.executable, SCRIPT, "state=" + state, "haproxy=" + sock,
                                     "table=lbbake-keepalived", fifo])
            try:
                os.write(writer, b'INSTANCE "VI_c1" BACKUP 249\nINSTANCE "VI_c1" MASTER 249\n')
                deadline = time.time() + 10
                while time.time() < deadline and tracker.load(state).get("state") != "MASTER":
                    time.sleep(0.05)
                st = tracker.load(state)
                self.assertEqual((st["state"], st["keepalived"], st["transitions"]), ("MASTER", "running", {"BACKUP": 1, "MASTER": 1}))
                while time.time() < deadline and not any("key MASTER data.gpt0 1" in g for g in got):
                    time.sleep(0.05)
                last = [g for g in got if "key MASTER data.gpt0 1" in g][-1]
                self.assertIn("set table lbbake-keepalived key n.MASTER data.gpt0 1;", last)
                self.assertIn("set table lbbake-keepalived key STOP data.gpt0 0;", last)
                self.assertTrue(last.endswith("\n"))
                proc.terminate()
                self.assertEqual(proc.wait(10), 0)
                st = tracker.load(state)
                self.assertEqual((st["state"], st["keepalived"]), ("MASTER", "stopped"))
                self.assertIn("key STOP data.gpt0 1", got[-1])
            finally:
                proc.kill()
                proc.wait(10)
                os.close(writer)
                srv.close()


if __name__ == "__main__":
    unittest.main()
