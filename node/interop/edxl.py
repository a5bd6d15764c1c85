"""One need with its pledges as OASIS EDXL-RM 1.0 messages, for handing over
to official responders.

The file is an EDXL-DE 1.0 distribution (the envelope EDXL messages travel
in) whose content objects are one RequestResource (the need) and one
CommitResource per pledge. Each CommitResource names the request as its
originating and preceding message and answers its resource element with a
ResponseType (Accept for a live pledge, Decline for a withdrawn one). Element
order follows the standard's sequences; the mapping of every meshaid kind to
EDXL-RM message types is in node/INTEROP.md. Written with xml.etree from the
standard library.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from typing import Any, TextIO

from ..actions import ActionError
from ..ledger import identity
from ..store import Store
from ..store import queries as q
from ..store.store import record_id

DE = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"
MSG = "urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"
RM = "urn:oasis:names:tc:emergency:EDXL:RM:1.0"
CATEGORY_LIST = "urn:meshaid:vocab:category"  # node/PROTOCOL.md, "Vocabularies"
UNIT_LIST = "urn:meshaid:vocab:unit"
URGENCY_LIST = "urn:meshaid:vocab:urgency"

ET.register_namespace("", DE)
ET.register_namespace("rm", RM)
ET.register_namespace("msg", MSG)


def stamp(unix_s: float) -> str:
    """An EDXL date-time: ISO 8601 with an explicit +00:00 offset."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(unix_s))


def _sub(parent: ET.Element, ns: str, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        el.text = text
    return el


def message_id(network_code: str, rid: str) -> str:
    return f"meshaid:{network_code}:{rid}"


def _contact(msg: ET.Element, row: dict[str, Any], role: str) -> None:
    contact = _sub(msg, MSG, "ContactInformation")
    who = ", ".join(x for x in (row["author_name"], row["site"]) if x) or "unnamed"
    _sub(contact, RM, "ContactDescription",
         f"{who} (meshaid key {row['id'].split('-')[0]}, {row['trust']})")
    _sub(contact, RM, "ContactRole", role)


def _quantity(parent: ET.Element, amount: int, unit: str) -> None:
    assignment = _sub(parent, MSG, "AssignmentInformation")
    quantity = _sub(assignment, MSG, "Quantity")
    measured = _sub(quantity, RM, "MeasuredQuantity")
    _sub(measured, RM, "Amount", str(amount))
    if unit:
        uom = _sub(measured, RM, "UnitOfMeasure")
        _sub(uom, RM, "ValueListURN", UNIT_LIST)
        _sub(uom, RM, "Value", unit)


def _schedule(parent: ET.Element, kind: str, when: float | None, place: str) -> None:
    if when is None and not place:
        return
    schedule = _sub(parent, MSG, "ScheduleInformation")
    _sub(schedule, MSG, "ScheduleType", kind)
    if when is not None:
        _sub(schedule, MSG, "DateTime", stamp(when))
    if place:
        location = _sub(schedule, MSG, "Location")
        _sub(location, RM, "LocationDescription", place)


def _place(row: dict[str, Any]) -> str:
    pos = row.get("position")
    if pos:
        return f"{row['site']} ({pos[0]:.5f}, {pos[1]:.5f})".strip()
    return str(row["site"])


def request(need: dict[str, Any], code: str) -> ET.Element:
    """The RequestResource message of a need (a `list --json` row)."""
    msg = ET.Element(f"{{{MSG}}}RequestResource")
    _sub(msg, MSG, "MessageID", message_id(code, need["id"]))
    _sub(msg, MSG, "SentDateTime", stamp(need["created"]))
    _sub(msg, MSG, "MessageContentType", "RequestResource")
    remaining = f", {need['remaining']} {need['unit']} still uncovered".replace(" ,", ",") \
        if need["qty"] else ""
    _sub(msg, MSG, "MessageDescription",
         f"{need['text']} ({need['urgency']} urgency, {need['status']}{remaining})")
    _contact(msg, need, "Requester")
    info = _sub(msg, MSG, "ResourceInformation")
    _sub(info, MSG, "ResourceInfoElementID", "1")
    resource = _sub(info, MSG, "Resource")
    _sub(resource, MSG, "Name", need["text"])
    type_structure = _sub(resource, MSG, "TypeStructure")
    _sub(type_structure, RM, "ValueListURN", CATEGORY_LIST)
    _sub(type_structure, RM, "Value", need["category"])
    keyword = _sub(resource, MSG, "Keyword")
    _sub(keyword, RM, "ValueListURN", URGENCY_LIST)
    _sub(keyword, RM, "Value", str(need["urgency"]))
    details = [need["note"]] if need["note"] else []
    if need.get("substitutes"):
        details.append(f"acceptable substitutes: {need['substitutes']}")
    if need.get("pack"):
        details.append(f"in packs of {need['pack']['count']} {need['pack']['unit']}")
    if details:
        _sub(resource, MSG, "Description", "; ".join(details))
    _quantity(info, need["qty"], need["unit"])
    # requested arrival: the needed-by time (else the need's expiry) at the
    # delivery place (else the need's site)
    place = need.get("deliver_to") or _place(need)
    _schedule(info, "RequestedArrival", need.get("needed_by") or need["valid_until"], place)
    return msg


def commit(pledge: dict[str, Any], need: dict[str, Any], code: str) -> ET.Element:
    """The CommitResource message of one pledge towards `need`."""
    msg = ET.Element(f"{{{MSG}}}CommitResource")
    _sub(msg, MSG, "MessageID", message_id(code, pledge["id"]))
    _sub(msg, MSG, "SentDateTime", stamp(pledge["created"]))
    _sub(msg, MSG, "MessageContentType", "CommitResource")
    if pledge["text"]:
        _sub(msg, MSG, "MessageDescription", pledge["text"])
    request_id = message_id(code, need["id"])
    _sub(msg, MSG, "OriginatingMessageID", request_id)
    _sub(msg, MSG, "PrecedingMessageID", request_id)
    _contact(msg, pledge, "Sender")
    info = _sub(msg, MSG, "ResourceInformation")
    _sub(info, MSG, "ResourceInfoElementID", "1")
    response = _sub(info, MSG, "ResponseInformation")
    _sub(response, RM, "PrecedingResourceInfoElementID", "1")
    _sub(response, RM, "ResponseType", "Decline" if pledge["status"] == "withdrawn" else "Accept")
    if pledge["status"] == "withdrawn":
        _sub(response, RM, "ResponseReason", "pledge withdrawn")
    resource = _sub(info, MSG, "Resource")
    _sub(resource, MSG, "Name", need["text"])
    if pledge["note"]:
        _sub(resource, MSG, "Description", pledge["note"])
    _quantity(info, pledge["qty"], pledge["unit"])
    place = need.get("deliver_to") or _place(need)
    if pledge.get("by") is not None:
        _schedule(info, "EstimatedArrival", pledge["by"], place)
    if pledge["status"] == "delivered" or pledge.get("delivered"):
        _schedule(info, "ActualArrival", pledge["updated"], place)
    return msg


def unsolicited(offer: dict[str, Any], code: str) -> ET.Element:
    """The OfferUnsolicitedResource message of an offer (a `show --json` row):
    its quantity (per period for a capacity), kind, inputs and availability."""
    msg = ET.Element(f"{{{MSG}}}OfferUnsolicitedResource")
    _sub(msg, MSG, "MessageID", message_id(code, offer["id"]))
    _sub(msg, MSG, "SentDateTime", stamp(offer["created"]))
    _sub(msg, MSG, "MessageContentType", "OfferUnsolicitedResource")
    _sub(msg, MSG, "MessageDescription", f"{offer['text']} ({offer['offer_type']}, "
         f"{offer['status']})")
    _contact(msg, offer, "Sender")
    info = _sub(msg, MSG, "ResourceInformation")
    _sub(info, MSG, "ResourceInfoElementID", "1")
    resource = _sub(info, MSG, "Resource")
    _sub(resource, MSG, "Name", offer["text"])
    type_structure = _sub(resource, MSG, "TypeStructure")
    _sub(type_structure, RM, "ValueListURN", CATEGORY_LIST)
    _sub(type_structure, RM, "Value", offer["category"])
    details = [offer["offer_type"] + (f", {offer['qty']} {offer['unit']} per {offer['per']}"
                                      if offer.get("per") else "")]
    if offer.get("inputs"):
        details.append("needs as input: " + ", ".join(offer["inputs"]))
    if offer.get("pack"):
        details.append(f"in packs of {offer['pack']['count']} {offer['pack']['unit']}")
    if offer["note"]:
        details.append(offer["note"])
    _sub(resource, MSG, "Description", "; ".join(details))
    _quantity(info, offer["qty"], offer["unit"])
    windows = offer.get("windows") or [[offer["created"], offer["valid_until"]]]
    for start, end in windows:
        _schedule(info, "BeginAvailable", start, _place(offer))
        if end is not None:
            _schedule(info, "EndAvailable", end, _place(offer))
    return msg


def distribution(store: Store, short: bytes, seq: int, now: float | None = None,
                 kind: str = "need") -> ET.Element:
    """The EDXL-DE envelope with a need's RequestResource and a CommitResource
    per pledge, or an offer's OfferUnsolicitedResource (`kind`); ActionError if
    (short, seq) is not a `kind` held here."""
    present = store.mesh_now() if now is None else now
    rid = record_id(short, seq)
    try:
        need = q.get_object(store, rid, present)
    except Exception as exc:  # StoreError: unknown id
        raise ActionError(f"no {kind} with id {rid} is known here") from exc
    if need["kind"] != kind:
        raise ActionError(f"{rid} is a {need['kind']}, not a{'n' if kind == 'offer' else ''} "
                          f"{kind}")
    network = store.network
    code = identity.network_code(network) if network else "unknown"
    root = ET.Element(f"{{{DE}}}EDXLDistribution")
    _sub(root, DE, "distributionID", f"meshaid:{code}:{rid}:{int(present)}")
    _sub(root, DE, "senderID", f"meshaid:{code}")
    _sub(root, DE, "dateTimeSent", stamp(present))
    _sub(root, DE, "distributionStatus", "Actual")
    _sub(root, DE, "distributionType", "Report")
    _sub(root, DE, "combinedConfidentiality", "UNCLASSIFIED AND NOT SENSITIVE")
    if kind == "offer":
        messages = [(f"offer {rid}", unsolicited(need, code))]
    else:
        messages = [(f"need {rid}", request(need, code))]
    for pledge in need.get("pledge_list", ()):
        messages.append((f"pledge {pledge['id']} towards need {rid}", commit(pledge, need, code)))
    for description, msg in messages:
        content = _sub(root, DE, "contentObject")
        _sub(content, DE, "contentDescription", description)
        xml_content = _sub(content, DE, "xmlContent")
        _sub(xml_content, DE, "embeddedXMLContent").append(msg)
    return root


def write_need(store: Store, short: bytes, seq: int, out: TextIO,
               now: float | None = None, kind: str = "need") -> int:
    """Write the need (short, seq) and its pledges (or the offer, `kind`) as EDXL
    XML to `out`; return the number of pledges."""
    root = distribution(store, short, seq, now, kind)
    ET.indent(root)
    out.write("<?xml version='1.0' encoding='UTF-8'?>\n")
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
    return len(root.findall(f"{{{DE}}}contentObject")) - 1  # the first is the request
