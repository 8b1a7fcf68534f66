"""py-gitea (a Python wrapper of the Gitea API, from PyPI) against the real
appliance's Gitea-compatible API at http://HOST/git."""
import base64, json, os, re, shutil, subprocess, tempfile, unittest, urllib.request

from gitea import Gitea, Repository

PASSWORD = "correct horse battery staple"


def binary():
    if os.environ.get("AUTOCREA_BIN"):
        return os.environ["AUTOCREA_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/autocrea-target"))
    return os.path.join(target, "debug", "autocrea")


class GiteaClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        env = dict(os.environ, AUTOCREA_SANDBOX="off", AUTOCREA_LISTEN="127.0.0.1:0", AUTOCREA_DATA_DIR=os.path.join(cls.dir, "data"))
        cls.server = subprocess.Popen([binary(), "serve"], env=env, cwd=cls.dir, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = cls.server.stdout.readline()
        cls.url = re.search(r"listening on (http://\S+)", line).group(1)
        req = urllib.request.Request(f"{cls.url}/api/v1/auth/signup", method="POST",
                                     data=json.dumps({"email": "guido@example.com", "name": "Guido", "password": PASSWORD}).encode(),
                                     headers={"content-type": "application/json"})
        urllib.request.urlopen(req).read()
        basic = base64.b64encode(f"guido:{PASSWORD}".encode()).decode()
        req = urllib.request.Request(f"{cls.url}/git/api/v1/users/guido/tokens", method="POST",
                                     data=json.dumps({"name": "py-gitea", "scopes": ["all"]}).encode(),
                                     headers={"content-type": "application/json", "authorization": f"Basic {basic}"})
        cls.token = json.loads(urllib.request.urlopen(req).read())["sha1"]
        req = urllib.request.Request(f"{cls.url}/git/api/v1/user/repos", method="POST",
                                     data=json.dumps({"name": "snake", "description": "A small snake", "auto_init": True}).encode(),
                                     headers={"content-type": "application/json", "authorization": f"token {cls.token}"})
        urllib.request.urlopen(req).read()

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_wrapper_reads_and_writes(self):
        gitea = Gitea(f"{self.url}/git", token_text=self.token)
        self.assertRegex(gitea.get_version(), r"^1\.(2[1-9]|[3-9]\d)\.")
        user = gitea.get_user()
        self.assertEqual(user.username, "guido")
        repos = user.get_repositories()
        self.assertEqual([r.name for r in repos], ["snake"])

        repo = Repository.request(gitea, "guido", "snake")
        self.assertEqual(repo.description, "A small snake")
        self.assertEqual([b.name for b in repo.get_branches()], ["main"])

        repo.create_file("hello.py", base64.b64encode(b"print('hello')\n").decode(), {"message": "Add hello.py"})
        names = sorted(c.name for c in repo.get_git_content())
        self.assertIn("hello.py", names)
        hello = next(c for c in repo.get_git_content() if c.name == "hello.py")
        self.assertEqual(base64.b64decode(repo.get_file_content(hello)), b"print('hello')\n")

        main = repo.get_branches()[0]
        repo.add_branch(main, "feature")
        self.assertEqual(sorted(b.name for b in repo.get_branches()), ["feature", "main"])

        commits = repo.get_commits()
        self.assertEqual(len(commits), 2, "paginated until the empty page")
        self.assertEqual(commits[0].sha, main.commit["id"])

        repo.delete_file("hello.py", hello.sha, {"message": "Remove hello.py"})
        self.assertNotIn("hello.py", [c.name for c in repo.get_git_content()])


if __name__ == "__main__":
    unittest.main(verbosity=2)
