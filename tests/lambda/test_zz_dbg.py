import logging, sys
def test_dbg(load_handler, capsys, aws):
    m = load_handler("endpoint_notifier", TOPIC_ARN="x")
    std = logging.getLogger("endpoint-notifier")
    f = open("/tmp/dbg.txt", "a")
    f.write(f"HANDLERS {std.handlers} {[getattr(h, 'stream', None) for h in std.handlers]} {sys.stdout} {std.level}\n")
    m.logger.info("hello")
    out = capsys.readouterr()
    f.write("OUT " + repr(out.out) + "\n")
