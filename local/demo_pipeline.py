"""Demo act: a release with one command, a failed deployment rolled back automatically, and a rollback by hand.

No Docker engine runs in the demo, so a recording `docker` (local/fake_docker.py) stands first on PATH: it
logs each command and, on push, puts the image into the emulated ECR as a real push would. The `warden`
CLI runs as the operator runs it, in a subprocess on the demo's clock; App Runner's operation events go to
on_deployment.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

from local import fake_docker
from local.account import ACCOUNT_ID, REGION, REPOSITORY
from local.deployment_events import operation_event
from local.timeline import Timeline, expect
from warden.adapters.dynamodb import StateTable
from warden.domain.images import OCI_INDEX
from warden.domain.pipeline import OBSERVED_SOURCE

CANARY = "pk_test_demo_CANARY"
BUILD_ARG = "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY"


class _Shell:
    """The operator's shell: the recording docker first on PATH, the app's source with its .env."""

    def __init__(self, timeline: Timeline, home: Path) -> None:
        self.timeline = timeline
        self.account = timeline.account
        self.log = fake_docker.install(home / "bin")
        self.path = f"{home / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        self.app = home / "consultation-app"
        self.app.mkdir()
        (self.app / "Dockerfile").write_text(f"FROM node:20-alpine\nARG {BUILD_ARG}\n")
        (self.app / ".env").write_text(f"{BUILD_ARG}={CANARY}\nCLERK_SECRET_KEY=sk_test_runtime_only\n")
        self.seen = 0

    def warden(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.timeline.cli(*args, path=self.path)
        lines = result.stdout.rstrip().splitlines()
        if self.timeline.verbose:
            for line in lines:
                print(f"      $ {line}" if line.startswith("-") else f"        {line}")
        else:
            command = " ".join(args[: next((n for n, arg in enumerate(args) if arg.startswith("-")), len(args))])
            self.timeline.note(f"$ warden {command}  (exit {result.returncode}; --verbose shows its output)")
        return result

    def new_docker_calls(self) -> list[list[str]]:
        calls = [call["argv"] for call in fake_docker.calls(self.log)][self.seen :]
        self.seen += len(calls)
        if self.timeline.verbose:
            for argv in calls:
                print(f"      docker saw: {shlex.join(argv)}")
        elif calls:
            self.timeline.note(
                f"docker saw {len(calls)} commands: {', '.join(argv[1] for argv in calls if len(argv) > 1)}"
            )
        return calls

    def digest(self, tag: str) -> tuple[str | None, str | None]:
        ecr = self.account.client("ecr")
        try:
            (detail,) = ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])["imageDetails"]
        except ecr.exceptions.ImageNotFoundException:
            return None, None
        return detail["imageDigest"], detail.get("imageManifestMediaType")


def play(timeline: Timeline) -> int:
    account = timeline.account
    failures = 0
    registry = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com"
    released_at, failed_at = timeline.calendar.release, timeline.calendar.failed_release
    switched_at = released_at - timedelta(hours=1)
    with tempfile.TemporaryDirectory(prefix="warden-demo-") as home:
        shell = _Shell(timeline, Path(home))
        timeline.say(switched_at, "The team points the service at :latest (v1.15.0), auto-deploy off")
        timeline.detail(
            "It was pinned to v1.1.0; latest is v1.15.0, a buildx OCI index. With automatic deployments off, a "
            "deployment starts when Warden says so."
        )
        account.client("apprunner").update_service(
            ServiceArn=account.service_arn,
            SourceConfiguration={
                "ImageRepository": {
                    "ImageIdentifier": f"{registry}/{REPOSITORY}:latest",
                    "ImageRepositoryType": "ECR",
                },
                "AutoDeploymentsEnabled": False,
            },
        )
        v1150, _ = shell.digest("v1.15.0")
        if v1150:  # the deployment that followed the switch to `latest`, as on_deployment records it
            StateTable(account.table_name, account.client("dynamodb")).record_deployment(
                account.service_arn, v1150, "v1.15.0", switched_at, OBSERVED_SOURCE
            )
        timeline.state()
        deployments = len(account.emulator.calls("StartDeployment"))

        timeline.say(released_at, f"alice: warden release v1.16.0 --build-arg {BUILD_ARG}")
        timeline.detail(
            "No Docker engine runs in this demo: a recording `docker` (local/fake_docker.py) stands first on PATH. "
            "It logs each command and, on push, puts the image into the emulated ECR as a real push would. The "
            "app's .env holds the Clerk key; Warden passes only its name, and the ECR password goes on stdin."
        )
        released = shell.warden("release", "v1.16.0", "--build-arg", BUILD_ARG, "--context", str(shell.app))
        calls = shell.new_docker_calls()
        everything = " ".join([released.stdout, released.stderr, *(" ".join(argv) for argv in calls)])
        failures += expect(released.returncode == 0 and len(calls) == 6, "the release ran docker's six steps")
        failures += expect(CANARY not in everything, "the Clerk key appears in no command line and no output")
        failures += expect(shell.digest("v1.16.0")[0] is not None, "ECR has v1.16.0")
        failures += expect(
            len(account.emulator.calls("StartDeployment")) == deployments + 1, "the release started one deployment"
        )
        failures += expect(timeline.show_inbox() == 1, "the release is announced once")

        timeline.say(released_at + timedelta(minutes=4), "App Runner: DeploymentCompletedSuccessfully -> on_deployment")
        event = operation_event(
            "deployment-succeeded", service_arn=account.service_arn, at=released_at + timedelta(minutes=4)
        )
        outcome = timeline.run("on_deployment", event)[0]
        timeline.outcome(outcome)
        failures += expect(
            outcome["outcome"] == "deployed" and timeline.show_inbox() == 1, "the deployment is reported"
        )

        timeline.say(failed_at, "alice: warden release v1.16.1 (its /health check will fail)")
        account.emulator.fail_next(account.service_arn, "START_DEPLOYMENT")
        failed_release = shell.warden("release", "v1.16.1", "--build-arg", BUILD_ARG, "--context", str(shell.app))
        shell.new_docker_calls()
        account.service_status()  # the emulator settles the failing deployment: App Runner rolls back by itself
        failures += expect(failed_release.returncode == 0, "v1.16.1 was released")
        failures += expect(timeline.show_inbox() == 1, "the release is announced")

        timeline.say(failed_at + timedelta(minutes=6), "App Runner: DeploymentFailed -> on_deployment (AUTO_ROLLBACK)")
        failed = operation_event(
            "deployment-failed", service_arn=account.service_arn, at=failed_at + timedelta(minutes=6)
        )
        outcome = timeline.run("on_deployment", failed, AUTO_ROLLBACK="true")[0]
        timeline.outcome(outcome)
        v1160, _ = shell.digest("v1.16.0")
        failures += expect(
            outcome["outcome"] == "rolled_back" and shell.digest("latest")[0] == v1160,
            "the failed deployment was rolled back to v1.16.0, once",
        )
        failures += expect(timeline.show_inbox() == 1, "the failure and its rollback are announced")

        timeline.say(
            failed_at + timedelta(minutes=40),
            "alice finds a bug in v1.16.0: warden rollback (to the release before it)",
        )
        back = shell.warden("rollback", "--reason", "checkout bug in v1.16.0")
        digest, media_type = shell.digest("latest")
        failures += expect(back.returncode == 0 and digest == v1150, "latest is v1.15.0 again")
        failures += expect(media_type == OCI_INDEX, "v1.15.0 is still an OCI image index, not one converted manifest")
        failures += expect(timeline.show_inbox() == 1, "the rollback is announced")
        timeline.note("latest is v1.15.0 again, still an OCI index; v1.16.0 and v1.16.1 stay in ECR.")
        timeline.detail(
            f"ECR {REPOSITORY}: latest = v1.15.0 ({media_type}); `warden rollback v1.16.0` brings v1.16.0 back when "
            "its bug is fixed elsewhere."
        )
    return failures
