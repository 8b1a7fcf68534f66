"""The official openai Python client (PyPI) against `autocrea llm-worker` with
the real small model: streaming and non-streaming chat completions."""
import os, re, subprocess, unittest

from openai import OpenAI

HERE = os.path.dirname(os.path.abspath(__file__))


def binary():
    if os.environ.get("AUTOCREA_BIN"):
        return os.environ["AUTOCREA_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/autocrea-target"))
    return os.path.join(target, "debug", "autocrea")


class OpenAIClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        models = os.path.join(HERE, "..", "..", "models", "models.toml")
        cls.worker = subprocess.Popen([binary(), "llm-worker", "--listen", "127.0.0.1:0", "--threads", "2", "--models", models],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        url = re.search(r"listening on (http://\S+)", cls.worker.stdout.readline()).group(1)
        cls.client = OpenAI(base_url=f"{url}/v1", api_key="not-needed-on-loopback")

    @classmethod
    def tearDownClass(cls):
        cls.worker.terminate()
        cls.worker.wait()

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

    def test_unknown_model_is_a_clear_error(self):
        from openai import NotFoundError
        with self.assertRaises(NotFoundError) as caught:
            self.client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "x"}])
        self.assertIn("gemma-3-270m", str(caught.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
