"""Stream the ``<drug>`` records of a DrugBank XML export, safely and in bounded memory.

A licensed export (``full database.xml``, about 1.5 GB for DrugBank 5.1) is read one top-level ``<drug>``
at a time, and each is freed once read, so memory does not grow with the file. The parser is defusedxml's,
told to refuse any document type declaration: that rules out external entities (XXE) and entity expansion
("billion laughs") before either can do harm, and no DrugBank export has one.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.parsers import expat

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.ElementTree import DefusedXMLParser
from defusedxml.ElementTree import iterparse as defused_iterparse
from tqdm import tqdm

from ddi.data.drugbank_record import DrugRecord, parse_drug
from ddi.errors import UserInputError

log = logging.getLogger(__name__)

#: Wrapper for excerpts that are a run of ``<drug>`` elements with no ``<drugbank>`` root.
_SYNTHETIC_ROOT = b"<drugbank>"
_SYNTHETIC_ROOT_END = b"</drugbank>"
_HEAD_BYTES = 64 * 1024
_TAIL_BYTES = 4 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"
_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_ROOT_END_AT_TAIL = re.compile(rb"</(?:[\w.-]+:)?drugbank\s*>\s*\Z")
#: How a zip archive starts: its first member, or (no member at all) its end record.
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_GZIP_MAGIC = b"\x1f\x8b"
#: What a damaged archive raises while it is read (bad CRC, truncated or corrupt deflate data).
_ARCHIVE_ERRORS = (zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile)
#: The most a compressed export may expand: DrugBank XML deflates about 10 to 1, a zip or gzip bomb up to 1000 to 1.
_MAX_INFLATION = 100
#: Below this many decompressed bytes any ratio passes (a small, repetitive file can deflate far better).
_INFLATION_FLOOR = 64 * 1024 * 1024
#: What a DrugBank export's namespace holds (``http://www.drugbank.ca``); no namespace at all is fine too.
_DRUGBANK_NAMESPACE = "drugbank"
#: Expat errors raised only at the end of the input, when it stops inside an element, a tag, a character or CDATA.
_TRUNCATION_ERRORS = frozenset(
    expat.errors.codes[message]
    for message in (
        expat.errors.XML_ERROR_NO_ELEMENTS,
        expat.errors.XML_ERROR_UNCLOSED_TOKEN,
        expat.errors.XML_ERROR_PARTIAL_CHAR,
        expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
    )
)
#: A cut inside a multi-byte UTF-8 character leaves up to 3 of its bytes before the synthetic root end.
_PARTIAL_CHAR_BYTES = 3


class XmlImportError(UserInputError):
    """The DrugBank XML file is missing, unreadable, malformed or hostile."""


class DrugBankXmlReader:
    """Iterate over the top-level ``<drug>`` records of a DrugBank XML export as ``DrugRecord`` objects.

    Parameters
    ----------
    xml_path
        A 4.x or 5.x export, in the ``http://www.drugbank.ca`` namespace or none, with a ``<drugbank>``
        root or as a bare run of ``<drug>`` elements (like the shared 4.2 excerpt).
    progress
        Show a progress bar over the bytes read (on a terminal only).

    Attributes
    ----------
    version
        The export's ``version`` attribute, known once iteration has started ("" if absent).

    Raises
    ------
    XmlImportError
        While iterating: the file is missing, empty, a damaged archive, not well-formed (the message gives the
        line), or declares a DTD.
    """

    def __init__(self, xml_path: str | Path, progress: bool = True) -> None:
        self.path = Path(xml_path)
        self.progress = progress
        self.version = ""

    def __iter__(self) -> Iterator[DrugRecord]:
        try:
            yield from self._records()
        except _ARCHIVE_ERRORS as exc:  # raised wherever the decompressed stream is read
            raise XmlImportError(f"{self.path}: the archive is damaged ({exc}); download it again") from None

    def _records(self) -> Iterator[DrugRecord]:
        file, size = _open(self.path)
        with file:
            source, synthetic_end = _parse_source(file, self.path)
            bar = tqdm(
                total=size,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=f"reading {self.path.name}",
                disable=None if self.progress else True,
            )
            with bar:
                for drug in self._top_level_drugs(source, synthetic_end):
                    yield parse_drug(drug)
                    bar.update(file.tell() - bar.n)

    def _top_level_drugs(self, source: BinaryIO, synthetic_end: int | None) -> Iterator[Element]:
        """Yield each complete top-level ``<drug>``, then free it.

        Depth, not the tag, decides what is top level: 5.x nests ``<drug>`` inside ``<pathways>``.
        ``synthetic_end``: the byte offset in ``source`` of the root end tag ``_parse_source`` added, if any.
        """
        parser = DefusedXMLParser(target=TreeBuilder(), forbid_dtd=True)
        depth = 0
        root: Element | None = None
        try:
            for event, element in defused_iterparse(source, events=("start", "end"), parser=parser):
                if event == "start":
                    if root is None:
                        root = element
                        self.version = element.get("version", "")
                        _check_root(element.tag, self.path)
                    depth += 1
                    continue
                depth -= 1
                if depth == 1 and root is not None:
                    if element.tag.rsplit("}", 1)[-1] == "drug":
                        yield element
                    # Detach the finished record from the tree: this is what keeps memory flat.
                    element.clear()
                    root.clear()
        except ParseError as exc:
            line, column = exc.position
            truncated = exc.code in _TRUNCATION_ERRORS or _failed_where_the_file_ends(parser, synthetic_end)
            hint = " (the file ends too early: is it truncated?)" if truncated else ""
            reason = expat.ErrorString(exc.code)
            raise XmlImportError(
                f"{self.path}: not well-formed XML at line {line}, column {column}: {reason}{hint}"
            ) from None
        except DefusedXmlException as exc:
            what = "a document type declaration (DTD)" if isinstance(exc, DTDForbidden) else str(exc)
            line = parser.parser.CurrentLineNumber
            raise XmlImportError(
                f"{self.path}: line {line}: refusing {what}; DrugBank exports have none, and it could read "
                "local files (external entities) or exhaust memory (entity expansion)"
            ) from None
        if root is None:
            raise XmlImportError(f"{self.path}: no XML element found")


def _open(path: Path) -> tuple[BinaryIO, int | None]:
    """The export's XML as a seekable binary stream, and its size in bytes when known (for the progress bar).

    DrugBank distributes its exports zipped: a ``.zip`` holding one ``.xml`` and a gzip file are read as they are,
    decompressed while parsed, never extracted to disk."""
    try:
        file = path.open("rb")
    except FileNotFoundError as exc:
        raise XmlImportError(f"{path}: file not found") from exc
    except IsADirectoryError as exc:
        raise XmlImportError(f"{path}: is a directory, not an XML file") from exc
    except OSError as exc:
        raise XmlImportError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not file.seekable():
        file.close()
        raise XmlImportError(f"{path}: not a regular file (a pipe or device cannot be imported)")
    magic = file.read(len(_ZIP_MAGICS[0]))
    file.seek(0)
    # The name decides too, so that a file named .zip or .gz that is not one is called so, not malformed XML.
    suffix = path.suffix.lower()
    if suffix == ".gz" and not magic.startswith(_GZIP_MAGIC):
        file.close()
        raise XmlImportError(f"{path}: not a gzip file, though named .gz; pass the export's .xml, .zip or .gz")
    if magic.startswith(_GZIP_MAGIC):
        file.close()  # reopened by name, so that closing the decompressed stream closes the file
        return cast(BinaryIO, _InflationGuard(gzip.GzipFile(path, mode="rb"), path)), None
    if magic in _ZIP_MAGICS or suffix == ".zip":
        file.close()
        return _open_zip_member(path)
    return file, path.stat().st_size


def _open_zip_member(path: Path) -> tuple[BinaryIO, int]:
    """The one ``.xml`` file inside a zip archive, opened for reading (closing it closes the archive's file)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise XmlImportError(f"{path}: not a readable zip archive ({exc})") from None
    with archive:  # the member keeps the file open until it is closed itself
        xml_members = [
            info
            for info in archive.infolist()
            if info.filename.lower().endswith(".xml") and not info.is_dir() and "__MACOSX/" not in info.filename
        ]
        if len(xml_members) != 1:
            listed = ", ".join(i.filename for i in xml_members[:5]) or "none; it holds " + (
                ", ".join(archive.namelist()[:5]) or "nothing"
            )
            raise XmlImportError(
                f"{path}: a zip archive must hold exactly one .xml file (the DrugBank export) to be read as it "
                f"is; it holds {len(xml_members)} ({listed}). Extract the export and pass its .xml"
            )
        _check_inflation(path, xml_members[0].file_size, xml_members[0].compress_size)
        try:
            member = archive.open(xml_members[0])
        except (NotImplementedError, RuntimeError, zipfile.BadZipFile) as exc:  # encrypted, unknown compression
            raise XmlImportError(f"{path}: cannot read {xml_members[0].filename} inside the archive ({exc})") from None
    return cast(BinaryIO, member), xml_members[0].file_size


def _check_inflation(path: Path, inflated: int, compressed: int) -> None:
    """Refuse a compressed export that expands (or declares it will) like a zip bomb: reading it would take hours.

    A zip member never inflates past the size it declares (``zipfile`` stops there), so checking that is enough."""
    if inflated > _INFLATION_FLOOR and inflated > _MAX_INFLATION * max(compressed, 1):
        raise XmlImportError(
            f"{path}: refusing a compressed file that expands more than {_MAX_INFLATION} times (to at least "
            f"{inflated / 1e9:,.1f} GB from {compressed / 1e6:,.1f} MB); a DrugBank export deflates about 10 to 1, "
            "so this is damaged or a decompression bomb"
        )


def _check_root(tag: str, path: Path) -> None:
    """Refuse XML whose root is not DrugBank's ``<drugbank>`` (or the synthetic one), so that another format's
    ``<drug>`` elements are not imported as DrugBank records."""
    namespace, _, name = tag[1:].rpartition("}") if tag.startswith("{") else ("", "", tag)
    if name != "drugbank" or (namespace and _DRUGBANK_NAMESPACE not in namespace.lower()):
        found = f"<{name}>" + (f" in namespace {namespace}" if namespace else "")
        raise XmlImportError(
            f"{path}: the root element is {found}, not DrugBank's <drugbank>: no <drug> records to read; this is "
            "not a DrugBank XML export"
        )


def _parse_source(file: BinaryIO, path: Path) -> tuple[BinaryIO, int | None]:
    """The stream to parse: the file itself, or the file inside a synthetic root if it has none; and the byte
    offset in that stream of the synthetic root end tag, if one was added (None otherwise).

    The shared 4.2 excerpt starts at its first ``<drug>`` but ends with ``</drugbank>``; a plain run of
    ``<drug>`` elements has neither. The opening tag goes right after the prolog, on the same line, so the
    parser's line numbers still match the file's.
    """
    head = file.read(_HEAD_BYTES)
    if not head.strip():
        raise XmlImportError(f"{path}: the file is empty")
    first = _first_element(head)
    file.seek(0)
    if first is None or first[1].rsplit(b":", 1)[-1] != b"drug":
        return file, None
    offset = first[0]
    ending = b"" if _ROOT_END_AT_TAIL.search(_tail(file)) else _SYNTHETIC_ROOT_END
    size = file.tell()  # _tail read to the end
    file.seek(offset)
    log.debug("%s has no <drugbank> root; reading it inside a synthetic one", path)
    chained = _ChainedReader(io.BytesIO(head[:offset] + _SYNTHETIC_ROOT), file, io.BytesIO(ending))
    # a RawIOBase reads like a binary file; the end tag follows the synthetic start tag and the whole file
    return cast(BinaryIO, chained), (size + len(_SYNTHETIC_ROOT) if ending else None)


def _failed_where_the_file_ends(parser: DefusedXMLParser, synthetic_end: int | None) -> bool:
    """Whether the parser failed where the file itself ended, at the root end tag ``_parse_source`` added: the
    file stops inside a record (a download cut short). Expat then reports a mismatched tag or an invalid token,
    errors that elsewhere in a file mean malformed XML, not a truncated one."""
    expat_parser = getattr(parser, "parser", None)  # gone once the parser is closed
    if synthetic_end is None or expat_parser is None:
        return False
    return bool(expat_parser.ErrorByteIndex >= synthetic_end - _PARTIAL_CHAR_BYTES)


def _tail(file: BinaryIO) -> bytes:
    """The last ``_TAIL_BYTES`` of a seekable file (where a whole export closes its root)."""
    size = file.seek(0, io.SEEK_END)
    file.seek(max(0, size - _TAIL_BYTES))
    return file.read()


def _first_element(head: bytes) -> tuple[int, bytes] | None:
    """Offset and name of the first start tag after the prolog, or None (e.g. when a DOCTYPE comes first)."""
    position = len(_UTF8_BOM) if head.startswith(_UTF8_BOM) else 0
    while item := _PROLOG_ITEM.match(head, position):
        position = item.end()
    tag = _FIRST_TAG.match(head, position)
    return (position, tag.group(1)) if tag else None


class _InflationGuard(io.RawIOBase):
    """A gzip stream that fails (``_check_inflation``) once it has expanded too much: gzip declares no usable size."""

    def __init__(self, stream: gzip.GzipFile, path: Path) -> None:
        super().__init__()
        self._stream = stream
        self._path = path

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = self._stream.readinto(buffer)
        _check_inflation(self._path, self._stream.tell(), self._stream.fileobj.tell())  # type: ignore[union-attr]
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:  # gzip would inflate to the end unchecked: go there through readinto
            chunk = bytearray(1 << 20)
            while self.readinto(chunk):
                pass
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def close(self) -> None:
        self._stream.close()
        super().close()


class _ChainedReader(io.RawIOBase):
    """Several binary streams read one after another as one, so wrapping a file costs no copy of it."""

    def __init__(self, *streams: BinaryIO) -> None:
        super().__init__()
        self._streams = list(streams)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._streams:
            count = self._streams[0].readinto(buffer)  # type: ignore[attr-defined]
            if count:
                return count
            self._streams.pop(0)
        return 0
