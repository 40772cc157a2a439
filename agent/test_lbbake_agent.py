"""Unit tests for the pure parts of lbbake-agent.py (run: python3 -m unittest discover -s agent).

The agent's behaviour against fake metadata services, a fake root and fake system tools is
tested from TypeScript (test/agent/agent.test.ts); these cover the functions that need none.
"""

import importlib.util
import json
import os
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = importlib.util.spec_from_file_location("lbbake_agent", os.path.join(HERE, "lbbake-agent.py"))
agent = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(agent)

CFG = {
    "format": 2,
    "cluster": "c1",
    "metadataKey": "lb-node",
    "sources": ["override", "address"],
    "paths": {"dataDir": "/usr/lib/lbbake", "override": "/etc/lbbake/node-name",
              "secrets": "/etc/lbbake/secrets.json", "marker": "/run/lbbake/node",
              "instanceData": "/run/cloud-init/instance-data.json"},
    "nodes": [{"name": "lb-0", "address": "198.18.0.11", "priority": 250, "state": "MASTER",
               "peers": ["198.18.0.12"]},
              {"name": "lb-1", "address": "198.18.0.12", "priority": 249, "state": "BACKUP",
               "peers": ["198.18.0.11"]}],
    "nodePlaceholderPrefix": "@@LBBAKE_NODE_",
    "files": [],
    "secrets": {"placeholderPrefix": "@@LBBAKE_SECRET_",
                "patterns": {"vrrp_auth_pass": "[A-Za-z0-9]{1,8}"}},
}


class FakeSecrets(object):
    def __init__(self, values):
        self.values = values

    def get(self, name):
        return self.values.get(name)


class AcceptTest(unittest.TestCase):
    def test_exact_names_only(self):
        names = ["lb-0", "lb-1"]
        self.assertEqual(agent.accept(b"lb-0\n", names), "lb-0")
        self.assertEqual(agent.accept(" lb-1 ", names), "lb-1")
        self.assertIsNone(agent.accept("lb-2", names))
        self.assertIsNone(agent.accept("LB-0", names))
        self.assertIsNone(agent.accept(b"\xff\xfe", names))
        self.assertIsNone(agent.accept(None, names))
        self.assertIsNone(agent.accept(["lb-0"], names))


class ShownTest(unittest.TestCase):
    def test_escapes_and_truncates(self):
        self.assertEqual(agent.shown("a\nb"), '"a\\nb"')
        long = agent.shown("x" * 100)
        self.assertIn("truncated, 100 characters", long)
        self.assertTrue(long.startswith('"' + "x" * agent.MAX_SHOWN + '"'))
        self.assertEqual(agent.shown(b"\xffok"), '"\\ufffdok"')


class EnvNumberTest(unittest.TestCase):
    def tearDown(self):
        os.environ.pop("LBBAKE_TEST_N", None)

    def test_default_clamp_and_garbage(self):
        self.assertEqual(agent.env_number("LBBAKE_TEST_N", 2.0, 0.1, 10.0), 2.0)
        os.environ["LBBAKE_TEST_N"] = "99"
        self.assertEqual(agent.env_number("LBBAKE_TEST_N", 2.0, 0.1, 10.0), 10.0)
        os.environ["LBBAKE_TEST_N"] = "nope"
        self.assertEqual(agent.env_number("LBBAKE_TEST_N", 2.0, 0.1, 10.0), 2.0)


class FillSecretsTest(unittest.TestCase):
    def setUp(self):
        agent.PATHS.update(CFG["paths"])

    def test_fills_and_refuses_bad_values(self):
        text = 'auth_pass "@@LBBAKE_SECRET_vrrp_auth_pass@@"'
        self.assertEqual(agent.fill_secrets(text, CFG, FakeSecrets({"vrrp_auth_pass": "abc123"}), "/x"),
                         'auth_pass "abc123"')
        with self.assertRaises(agent.AgentError):
            agent.fill_secrets(text, CFG, FakeSecrets({"vrrp_auth_pass": 'x" }'}), "/x")
        with self.assertRaises(agent.AgentError):
            agent.fill_secrets(text, CFG, FakeSecrets({}), "/x")

    def test_unknown_placeholder_is_an_error(self):
        with self.assertRaises(agent.AgentError):
            agent.fill_secrets("@@LBBAKE_SECRET_other@@", CFG, FakeSecrets({}), "/x")


class FillNodeTest(unittest.TestCase):
    P = "@@LBBAKE_NODE_"

    def test_scalars_and_list_lines(self):
        text = "router_id c-@@LBBAKE_NODE_name@@\npriority @@LBBAKE_NODE_priority@@\n" \
               "peer {\n    @@LBBAKE_NODE_peers@@\n}\n"
        node = {"name": "lb-0", "priority": 250, "peers": ["198.18.0.12", "198.18.0.13"]}
        self.assertEqual(agent.fill_node(text, node, self.P),
                         "router_id c-lb-0\npriority 250\npeer {\n    198.18.0.12\n    198.18.0.13\n}\n")

    def test_an_empty_list_drops_its_line(self):
        node = {"name": "a", "peers": []}
        self.assertEqual(agent.fill_node("x\n  @@LBBAKE_NODE_peers@@ @@LBBAKE_NODE_name@@\ny", node, self.P), "x\ny")

    def test_scalars_are_filled_on_repeated_lines(self):
        node = {"name": "n1", "peers": ["p1", "p2"]}
        self.assertEqual(agent.fill_node("@@LBBAKE_NODE_name@@->@@LBBAKE_NODE_peers@@", node, self.P),
                         "n1->p1\nn1->p2")


class LoadClusterTest(unittest.TestCase):
    def test_reads_paths_from_cluster_json(self):
        with tempfile.TemporaryDirectory() as root:
            path = os.path.join(root, agent.CLUSTER_FILE.lstrip("/"))
            os.makedirs(os.path.dirname(path))
            with open(path, "w") as f:
                json.dump(CFG, f)
            os.environ["LBBAKE_ROOT"] = root
            try:
                agent.PATHS.clear()
                cfg = agent.load_cluster()
            finally:
                del os.environ["LBBAKE_ROOT"]
            self.assertEqual(cfg["cluster"], "c1")
            self.assertEqual(agent.PATHS["override"], "/etc/lbbake/node-name")

    def test_rejects_missing_keys(self):
        with tempfile.TemporaryDirectory() as root:
            path = os.path.join(root, agent.CLUSTER_FILE.lstrip("/"))
            os.makedirs(os.path.dirname(path))
            broken = dict(CFG)
            del broken["paths"]
            with open(path, "w") as f:
                json.dump(broken, f)
            os.environ["LBBAKE_ROOT"] = root
            try:
                with self.assertRaises(ValueError):
                    agent.load_cluster()
            finally:
                del os.environ["LBBAKE_ROOT"]


class FailSafeMessageTest(unittest.TestCase):
    def test_names_every_fix(self):
        agent.PATHS.update(CFG["paths"])
        msg = agent.fail_safe_message(CFG)
        for part in ("lb-node=<lb-0|lb-1>", "198.18.0.11, 198.18.0.12", "/etc/lbbake/node-name",
                     "systemctl restart lbbake-agent.service"):
            self.assertIn(part, msg)


STATE_26 = """1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 kubernetes-apiserver 1 master-0 10.0.0.21 2 0 1 1 12 6 3 4 6 0 0 0 - 6443 - 0 0 - - 0
3 kubernetes-apiserver 2 master-1 10.0.0.22 2 0 1 1 12 6 3 4 6 0 0 0 - 6443 - 0 0 - - 0
4 konnectivity 1 master-1 10.0.0.22 2 0 1 1 12 6 3 4 6 0 0 0 - 8132 - 0 0 - - 0
5 dns-api 1 api-1 10.0.0.31 2 0 1 1 3 6 3 4 6 0 0 0 api.k8s.internal 6443 - 0 0 - - 0
5 dns-api 2 api-2 0.0.0.0 0 32 1 1 3 1 0 0 14 0 0 0 api.k8s.internal 6443 - 0 0 - - 0
"""


class FakeHaproxy(object):
    """Stands in for agent.haproxy: answers `show servers state` from a table it keeps."""

    def __init__(self, text):
        self.rows = [line.split() for line in text.splitlines()]
        self.sent = []

    def __call__(self, command):
        self.sent.append(command)
        if command == "show servers state":
            return "\n".join(" ".join(r) for r in self.rows) + "\n"
        words = command.split()
        if words[:2] == ["set", "server"]:
            be, _, name = words[2].partition("/")
            for r in self.rows:
                if len(r) > 6 and r[1] == be and r[3] == name:
                    r[6] = "1" if words[4] == "maint" else "0"
                    return "\n"
            return "No such server.\n"
        return "\n"


class MaintenanceTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeHaproxy(STATE_26)
        self.saved = agent.haproxy
        agent.haproxy = self.fake

    def tearDown(self):
        agent.haproxy = self.saved

    def select(self, target, service=None):
        return agent.select_servers(agent.servers_state(), target, service)

    def test_parses_show_servers_state(self):
        state = agent.servers_state()
        self.assertEqual(state[0], ("kubernetes-apiserver", "master-0", "10.0.0.21", "6443", 2, 0))
        self.assertEqual(state[4][5], 32)

    def test_selects_by_name_service_slash_name_and_address(self):
        self.assertEqual(self.select("master-0"), ["kubernetes-apiserver/master-0"])
        self.assertEqual(self.select("master-1"), ["kubernetes-apiserver/master-1", "konnectivity/master-1"])
        self.assertEqual(self.select("master-1", "konnectivity"), ["konnectivity/master-1"])
        self.assertEqual(self.select("konnectivity/master-1"), ["konnectivity/master-1"])
        self.assertEqual(self.select("10.0.0.22"), ["kubernetes-apiserver/master-1", "konnectivity/master-1"])
        self.assertEqual(self.select("10.0.0.22:8132"), ["konnectivity/master-1"])
        self.assertEqual(self.select("10.0.0.31"), ["dns-api/api-1"])

    def test_unknown_server_lists_the_known_ones_without_empty_dns_slots(self):
        with self.assertRaises(agent.MaintError) as ctx:
            self.select("master-9")
        msg = str(ctx.exception)
        self.assertIn("kubernetes-apiserver/master-0 10.0.0.21", msg)
        self.assertNotIn("api-2", msg)
        with self.assertRaises(agent.MaintError):
            self.select("10.0.0.22:1")

    def test_drain_and_undrain_set_states_and_confirm(self):
        cfg = dict(CFG)
        self.assertEqual(agent.maintenance(cfg, ["drain", "10.0.0.22", "--service", "kubernetes-apiserver"]), 0)
        self.assertIn("set server kubernetes-apiserver/master-1 state maint", self.fake.sent)
        self.assertNotIn("set server konnectivity/master-1 state maint", self.fake.sent)
        self.assertEqual(agent.maintenance(cfg, ["drain", "master-0", "--shutdown-sessions"]), 0)
        self.assertIn("shutdown sessions server kubernetes-apiserver/master-0", self.fake.sent)
        self.assertEqual(agent.maintenance(cfg, ["undrain", "kubernetes-apiserver/master-1", "--wait", "1"]), 0)
        self.assertIn("set server kubernetes-apiserver/master-1 state ready", self.fake.sent)

    def test_bad_arguments_exit_2_before_touching_haproxy(self):
        for argv in (["drain"], ["drain", "a", "b"], ["drain", "a", "--wait", "soon"], ["undrain", "a", "--shutdown-sessions"],
                     ["handover", "extra"], ["takeback", "--service", "x"]):
            self.fake.sent = []
            self.assertEqual(agent.maintenance(CFG, argv), 2, argv)
            self.assertEqual(self.fake.sent, [], argv)

    def test_haproxy_refusal_is_an_error(self):
        self.fake.rows.append(["3", "kubernetes-apiserver", "9", "ghost", "10.0.0.99", "2", "0"])
        self.assertEqual(agent.maintenance(CFG, ["drain", "ghost", "--service", "kubernetes-apiserver"]), 0)
        self.fake.rows = [r for r in self.fake.rows if r[3:4] != ["ghost"]]
        saved = agent.servers_state
        agent.servers_state = lambda: [("kubernetes-apiserver", "ghost", "10.0.0.99", "", 2, 0)]
        try:
            self.assertEqual(agent.maintenance(CFG, ["drain", "ghost"]), 2)
        finally:
            agent.servers_state = saved


class HandoverTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        os.environ["LBBAKE_ROOT"] = self.root
        agent.PATHS.update(CFG["paths"])
        agent.PATHS["handover"] = "/etc/keepalived/lbbake-handover"
        os.makedirs(os.path.join(self.root, "run/lbbake"))
        os.makedirs(os.path.join(self.root, "etc/keepalived"))
        with open(os.path.join(self.root, "run/lbbake/node"), "w") as f:
            f.write("lb-0\n")
        self.addrs = ["198.18.0.11", "198.18.0.100"]
        self.saved = agent.own_addresses
        agent.own_addresses = lambda: list(self.addrs)
        self.cfg = dict(CFG, vip={"address": "198.18.0.100"}, vrrp={"preempt": True, "advertInterval": 1})

    def tearDown(self):
        agent.own_addresses = self.saved
        del os.environ["LBBAKE_ROOT"]
        import shutil
        shutil.rmtree(self.root)

    def track(self):
        path = os.path.join(self.root, "etc/keepalived/lbbake-handover")
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return f.read()

    def test_preempt_drops_to_priority_1_and_waits_for_the_vip_to_leave(self):
        calls = []

        def addrs():
            calls.append(1)
            return self.addrs if len(calls) < 3 else ["198.18.0.11"]
        agent.own_addresses = addrs
        self.assertEqual(agent.maintenance(self.cfg, ["handover", "--wait", "5"]), 0)
        self.assertEqual(self.track(), "-249\n")

    def test_without_preempt_it_is_fault(self):
        self.cfg["vrrp"] = {"preempt": False, "advertInterval": 1}
        self.addrs = ["198.18.0.11"]
        self.assertEqual(agent.maintenance(self.cfg, ["handover"]), 0)
        self.assertEqual(self.track(), "-254\n")

    def test_no_peer_takes_it_exit_1_and_the_file_stays(self):
        self.assertEqual(agent.maintenance(self.cfg, ["handover", "--wait", "0.5"]), 1)
        self.assertEqual(self.track(), "-249\n")

    def test_takeback_removes_the_file_and_waits_for_the_vip(self):
        self.assertEqual(agent.maintenance(self.cfg, ["handover", "--node", "lb-1", "--wait", "0"]), 1)
        self.assertEqual(self.track(), "-248\n")
        self.addrs = ["198.18.0.11"]
        # lb-1 is not the top priority: takeback does not wait for the VIP
        self.assertEqual(agent.maintenance(self.cfg, ["takeback", "--node", "lb-1"]), 0)
        self.assertIsNone(self.track())
        # lb-0 is: it waits, and says so when the VIP does not come back
        self.assertEqual(agent.maintenance(self.cfg, ["takeback", "--wait", "0.3"]), 1)
        self.addrs.append("198.18.0.100")
        self.assertEqual(agent.maintenance(self.cfg, ["takeback"]), 0)

    def test_unknown_node_name_is_an_error(self):
        os.unlink(os.path.join(self.root, "run/lbbake/node"))
        self.assertEqual(agent.maintenance(self.cfg, ["handover"]), 2)
        self.assertEqual(agent.maintenance(self.cfg, ["handover", "--node", "lb-9"]), 2)
        self.assertIsNone(self.track())


if __name__ == "__main__":
    unittest.main()
