"""labkit.engine.commands: what differs on every run of a docker command (no engine needed)."""
from __future__ import annotations

import pytest

from labkit.engine.commands import CommandRun, engine_ids, masked, varying_spans

ERROR = "docker: Error response from daemon: unable to find user nobody: no matching entries in passwd file.\n"
LOGGED = 'time="2026-11-27T10:54:37Z" level=error msg="error waiting for container: context canceled"\n'
TTY_LOGGED = "ERRO[0000] error waiting for container: context canceled \n"


@pytest.mark.parametrize("output", [
    ERROR, LOGGED + ERROR, ERROR + LOGGED, TTY_LOGGED + ERROR, ERROR + TTY_LOGGED, "a\n" + LOGGED + "b\n",
], ids=["absent", "first", "last", "tty-first", "tty-last", "middle"])
def test_the_20_10_clis_sometimes_line_is_masked_away_wherever_it_comes(output):
    run = CommandRun("docker run --rm --network none lab/x", 125, output)
    expected = "a\nb\n" if output.startswith("a\n") else ERROR
    assert masked(run) == expected
    assert {kind for _, _, kind in varying_spans(run)} <= {"time"}


def test_the_sometimes_span_is_the_line_with_one_line_break():
    run = CommandRun("docker run x", 125, ERROR + LOGGED)
    [(start, end, kind)] = varying_spans(run)
    assert run.output[start:end] == "\n" + LOGGED.rstrip("\n") and kind == "time"


def test_other_cli_log_lines_stay_with_their_counter_masked():
    run = CommandRun("docker build .", 1, "ERRO[0003] something else went wrong\n")
    assert masked(run) == "<varies> something else went wrong\n"


def test_docker_run_detached_prints_a_container_id_that_varies():
    cid = "fe311ccbf76616e5774a0a0a748c5aa24a48daec9ef034d946088e787fa26abb"
    started = CommandRun("docker run -d --network none --name lab-x lab/x:1", 0, cid + "\n")
    assert engine_ids([started]) == {cid, cid[:12]}
    assert masked(started) == "<varies>\n"
    later = CommandRun("docker ps", 0, f"{cid[:12]}   lab/x:1\n")
    assert masked(later, engine_ids([started])) == "<varies>  lab/x:1\n"


def test_a_64_digit_line_inside_other_text_is_not_an_id():
    run = CommandRun("docker save x | tar -t", 0, "blobs/sha256/" + "ab" * 32 + "\n")
    assert masked(run) == run.output


def test_an_http_answers_date_and_a_registrys_port_and_upload_session_vary():
    out = ("HTTP/1.1 202 Accepted\r\nDocker-Upload-Uuid: 569ef0f9-fe6e-4f09-b33e-16095d225ca6\r\n"
           "Location: http://127.0.0.1:45871/v2/lab/n/blobs/uploads/569ef0f9-fe6e-4f09-b33e-16095d225ca6"
           "?_state=HbU9IhAhr1vf\r\nDate: Sun, 06 Dec 2026 10:29:37 GMT\r\n")
    run = CommandRun("curl -si -X POST http://$REGISTRY/v2/lab/n/blobs/uploads/", 0, out)
    assert masked(run) == ("HTTP/1.1 202 Accepted\r\nDocker-Upload-Uuid: <varies>\r\n"
                           "Location: http://127.0.0.1:<varies>/v2/lab/n/blobs/uploads/<varies>"
                           "?_state=<varies>\r\nDate: <varies>\r\n")
    assert masked(CommandRun("curl -s x", 0, "Date: today\n")) == "Date: today\n"   # only an HTTP date


def test_a_buildkit_line_printed_only_sometimes_is_marked_to_go_whole():
    from labkit.engine.commands import CommandRun, masked, varying_spans
    with_partial = "#2 [internal] load .dockerignore\n#2 transferring context:\n#2 transferring context: 2B done\n#2 DONE 0.0s\n"
    without = "#2 [internal] load .dockerignore\n#2 transferring context: 2B done\n#2 DONE 0.0s\n"
    runs = [CommandRun("DOCKER_BUILDKIT=1 docker build -t x .", 0, text) for text in (with_partial, without)]
    spans = varying_spans(runs[0])
    assert (33, 58, "time") in spans
    assert masked(runs[0]) == masked(runs[1])


@pytest.mark.parametrize("tool, size", [("docker", "2.42kB"), ("podman", "2.42 kB"), ("podman", "2.41 kB")])
def test_a_built_images_listed_size_varies_as_docker_or_podman_prints_it(tool, size):
    """The size follows the config's length (its date's digits): Podman puts a space before kB."""
    run = CommandRun(f"{tool} images lab/x:legacy", 0,
                     f"REPOSITORY  TAG  IMAGE ID  CREATED  SIZE\nlab/x  legacy  0123456789ab  1 second ago  {size}\n")
    assert masked(run, sizes_vary=True).endswith("<varies>\n")
    assert masked(run).endswith(f"{size}\n")


@pytest.mark.parametrize("verb", ["image rm", "rmi"])
def test_the_layers_docker_image_rm_deletes_depend_on_the_engine_so_they_go_whole(verb):
    """A layer another image still uses is not deleted: those lines are there or not."""
    first = "Untagged: by-hand:lab\nDeleted: sha256:" + "5f" * 32 + "\n"
    run = CommandRun(f"docker {verb} by-hand:lab scratch-only:buildkit", 0,
                     first + "Untagged: scratch-only:buildkit\nDeleted: sha256:" + "71" * 32 + "\n")
    assert masked(run, {"5f" * 6}) == "Untagged: by-hand:lab\nUntagged: scratch-only:buildkit\n"
    assert [kind for _, _, kind in varying_spans(run)] == ["time", "time"]
    last = CommandRun("docker image rm x", 0, "Untagged: x\nDeleted: sha256:" + "71" * 32)  # shown without its end
    assert masked(last) == "Untagged: x"
    alone = CommandRun("docker image rm x", 0, "Deleted: sha256:" + "71" * 32 + "\nUntagged: y\n")
    assert masked(alone) == "Untagged: y\n"
