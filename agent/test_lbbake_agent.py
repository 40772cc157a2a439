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


if __name__ == "__main__":
    unittest.main()
