"""The chapter's "fetch URLs in parallel" exercise in Python, to time against
`mproc fetch`: multiprocessing.Pool(P).map over the URLs, each fetched with
urllib.request and its <title> extracted (None when the fetch failed).

Usage: fetch.py SOURCE [PROCESSES]
SOURCE is a file of URLs (one a line, # comments skipped) or the http(s) URL
of a sitemap or of such a list. PROCESSES defaults to 5. Prints one line per
URL, in input order: index, status, title, URL.
"""
import html
import multiprocessing
import re
import sys
import urllib.request
import xml.etree.ElementTree as ET

TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
META = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.IGNORECASE)


def read_source(source):
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:
            data = response.read()
    else:
        with open(source, "rb") as f:
            data = f.read()
    data = data.lstrip(b"\xef\xbb\xbf")
    if data.lstrip().startswith(b"<"):
        root = ET.fromstring(data)
        return [loc.text.strip() for loc in root.iter() if loc.tag.endswith("}loc") or loc.tag == "loc"]
    lines = (line.strip() for line in data.decode("utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def fetch(url):
    """(status, title) of one page; (None, None) when it could not be fetched."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            status = response.status
            charset = response.headers.get_content_charset()
            body = response.read()
    except Exception:
        return None, None
    match = TITLE.search(body)
    if not match:
        return status, None
    if not charset:
        meta = META.search(body[:1024])
        charset = meta.group(1).decode("ascii") if meta else "utf-8"
    try:
        text = match.group(1).decode(charset, errors="replace")
    except LookupError:
        text = match.group(1).decode("utf-8", errors="replace")
    return status, " ".join(html.unescape(text).split())


def main():
    source = sys.argv[1]
    processes = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    urls = read_source(source)
    with multiprocessing.Pool(processes) as pool:
        results = pool.map(fetch, urls)
    for i, (url, (status, title)) in enumerate(zip(urls, results)):
        print(f"{i}\t{status}\t{title}\t{url}")


if __name__ == "__main__":
    main()
