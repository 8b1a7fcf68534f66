"""The official openai Python client (PyPI) against the appliance's `/v1`
gateway: `autocrea serve` with its supervised llm-worker and the real small
model, authenticated with a user's API token. Streaming and non-streaming
chat, raw completions, constrained tool calls, and OpenAI-shaped errors."""
import json, os, re, subprocess, tempfile, time, unittest, urllib.request

from openai import OpenAI, AuthenticationError, NotFoundError

HERE = os.path.dirname(os.path.abspath(__file__))


def binary():
    if os.environ.get("AUTOCREA_BIN"):
        return os.environ["AUTOCREA_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/autocrea-target"))
    return os.path.join(target, "debug", "autocrea")


class GatewayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        models = os.path.abspath(os.path.join(HERE, "..", "..", "models", "models.toml"))
        config = os.path.join(cls.dir.name, "autocrea.toml")
        with open(config, "w") as f:
            f.write(f'listen = "127.0.0.1:0"\ndata_dir = "{cls.dir.name}/data"\n'
                    f'[llm]\nmodels = "{models}"\nthreads = 2\nslots = 2\ncontext = 2048\n')
        env = dict(os.environ, AUTOCREA_CONFIG=config, AUTOCREA_SANDBOX="off")
        subprocess.run([binary(), "user", "create", "--email", "py@example.com", "--name", "Py", "--admin",
                        "--password-stdin"], input="a long enough passphrase 42\n", text=True, env=env, check=True,
                       capture_output=True)
        cls.token = subprocess.run([binary(), "token", "create", "--email", "py@example.com", "--name", "py"],
                                   text=True, env=env, check=True, capture_output=True).stdout.strip()
        cls.server = subprocess.Popen([binary(), "serve"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      text=True, env=env)
        cls.url = re.search(r"listening on (http://\S+)", cls.server.stdout.readline()).group(1)
        deadline = time.time() + 120
        while True:
            req = urllib.request.Request(f"{cls.url}/api/v1/admin/llm", headers={"Authorization": f"Bearer {cls.token}"})
            state = json.load(urllib.request.urlopen(req))["worker"]["state"]
            if state == "ready":
                break
            if time.time() > deadline:
                raise AssertionError(f"the local model never became ready: {state}")
            time.sleep(0.2)
        cls.client = OpenAI(base_url=f"{cls.url}/v1", api_key=cls.token)

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait()
        cls.dir.cleanup()

    def ask(self, stream):
        return self.client.chat.completions.create(
            model="gemma-3-270m",
            messages=[{"role": "user", "content": "Name three fruits."}],
            max_tokens=16, temperature=0, stream=stream)

    def test_models(self):
        self.assertEqual([m.id for m in self.client.models.list()], ["gemma-3-270m"])

    def test_non_streaming_and_streaming_agree(self):
        reply = self.ask(stream=False)
        text = reply.choices[0].message.content
        self.assertTrue(text)
        self.assertEqual(reply.choices[0].message.role, "assistant")
        self.assertGreater(reply.usage.completion_tokens, 0)
        pieces = [c.choices[0].delta.content or "" for c in self.ask(stream=True) if c.choices]
        self.assertGreater(len(pieces), 1, "tokens arrive one by one")
        self.assertEqual("".join(pieces), text)

    def test_raw_completions(self):
        whole = self.client.completions.create(model="gemma-3-270m", prompt="def add(a, b):\n", max_tokens=12,
                                               temperature=0)
        self.assertTrue(whole.choices[0].text)
        streamed = "".join(c.choices[0].text for c in self.client.completions.create(
            model="gemma-3-270m", prompt="def add(a, b):\n", max_tokens=12, temperature=0, stream=True) if c.choices)
        self.assertEqual(streamed, whole.choices[0].text)

    def test_constrained_tool_call(self):
        reply = self.client.chat.completions.create(
            model="gemma-3-270m", max_tokens=200, temperature=0,
            messages=[{"role": "user", "content": "Create index.html"}],
            tools=[{"type": "function", "function": {"name": "create_file", "description": "Create a file",
                    "parameters": {"type": "object", "properties": {"path": {"type": "string", "maxLength": 30}},
                                   "required": ["path"]}}}],
            tool_choice="required")
        self.assertEqual(reply.choices[0].finish_reason, "tool_calls")
        call = reply.choices[0].message.tool_calls[0]
        self.assertEqual(call.function.name, "create_file")
        self.assertIsInstance(json.loads(call.function.arguments)["path"], str)

    def test_errors_are_openai_shaped(self):
        with self.assertRaises(NotFoundError) as caught:
            self.client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "x"}])
        self.assertIn("/v1/models", str(caught.exception))
        stranger = OpenAI(base_url=f"{self.url}/v1", api_key="acr_not_a_real_token")
        with self.assertRaises(AuthenticationError):
            stranger.models.list()


if __name__ == "__main__":
    unittest.main(verbosity=2)
