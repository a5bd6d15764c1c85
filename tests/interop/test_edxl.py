"""EDXL-RM export of a need with its pledges, checked against the element
structure of EDXL-DE 1.0 and EDXL-RM 1.0 (the sequences below are the
standards' content models, written out here independently of the exporter)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from ledger_helpers import NOW

from meshaid.node.actions import ActionError
from meshaid.node.interop import edxl
from meshaid.node.store import Store
from meshaid.node.store import queries as q
from meshaid.node.store.store import parse_record_id

DE = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"
MSG = "urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"
RM = "urn:oasis:names:tc:emergency:EDXL:RM:1.0"

# (child, min, max) in schema order; max None = unbounded.
Seq = list[tuple[str, int, int | None]]
DISTRIBUTION: Seq = [
    (f"{{{DE}}}distributionID", 1, 1), (f"{{{DE}}}senderID", 1, 1),
    (f"{{{DE}}}dateTimeSent", 1, 1), (f"{{{DE}}}distributionStatus", 1, 1),
    (f"{{{DE}}}distributionType", 1, 1), (f"{{{DE}}}combinedConfidentiality", 1, 1),
    (f"{{{DE}}}language", 0, 1), (f"{{{DE}}}senderRole", 0, None),
    (f"{{{DE}}}recipientRole", 0, None), (f"{{{DE}}}keyword", 0, None),
    (f"{{{DE}}}distributionReference", 0, None), (f"{{{DE}}}explicitAddress", 0, None),
    (f"{{{DE}}}targetArea", 0, None), (f"{{{DE}}}contentObject", 0, None),
]
CONTENT_OBJECT: Seq = [
    (f"{{{DE}}}contentDescription", 0, 1), (f"{{{DE}}}contentKeyword", 0, None),
    (f"{{{DE}}}incidentID", 0, 1), (f"{{{DE}}}incidentDescription", 0, 1),
    (f"{{{DE}}}originatorRole", 0, None), (f"{{{DE}}}consumerRole", 0, None),
    (f"{{{DE}}}confidentiality", 0, 1), (f"{{{DE}}}xmlContent", 1, 1),
]
MESSAGE: Seq = [
    (f"{{{MSG}}}MessageID", 1, 1), (f"{{{MSG}}}SentDateTime", 1, 1),
    (f"{{{MSG}}}MessageContentType", 1, 1), (f"{{{MSG}}}MessageDescription", 0, 1),
    (f"{{{MSG}}}OriginatingMessageID", 0, 1), (f"{{{MSG}}}PrecedingMessageID", 0, 1),
    (f"{{{MSG}}}IncidentInformation", 0, None), (f"{{{MSG}}}MessageRecall", 0, 1),
    (f"{{{MSG}}}Funding", 0, None), (f"{{{MSG}}}ContactInformation", 1, None),
    (f"{{{MSG}}}ResourceInformation", 1, None),
]
RESOURCE_INFORMATION: Seq = [
    (f"{{{MSG}}}ResourceInfoElementID", 1, 1), (f"{{{MSG}}}ResponseInformation", 0, 1),
    (f"{{{MSG}}}Resource", 0, 1), (f"{{{MSG}}}AssignmentInformation", 0, 1),
    (f"{{{MSG}}}ScheduleInformation", 0, None),
]
RESOURCE: Seq = [
    (f"{{{MSG}}}ResourceID", 0, 1), (f"{{{MSG}}}Name", 0, 1),
    (f"{{{MSG}}}TypeStructure", 0, 1), (f"{{{MSG}}}TypeInfo", 0, 1),
    (f"{{{MSG}}}Keyword", 0, None), (f"{{{MSG}}}Description", 0, 1),
    (f"{{{MSG}}}Credentials", 0, 1), (f"{{{MSG}}}Certifications", 0, 1),
    (f"{{{MSG}}}SpecialRequirements", 0, 1), (f"{{{MSG}}}ResponsibleParty", 0, 1),
    (f"{{{MSG}}}OwnershipInformation", 0, 1), (f"{{{MSG}}}ResourceStatus", 0, 1),
]
ASSIGNMENT: Seq = [
    (f"{{{MSG}}}Quantity", 0, 1), (f"{{{MSG}}}Restrictions", 0, 1),
    (f"{{{MSG}}}AnticipatedFunction", 0, 1), (f"{{{MSG}}}PriceQuote", 0, 1),
    (f"{{{MSG}}}OrderID", 0, 1), (f"{{{MSG}}}AssignmentInstructions", 0, 1),
]
SCHEDULE: Seq = [
    (f"{{{MSG}}}ScheduleType", 1, 1), (f"{{{MSG}}}DateTime", 0, 1),
    (f"{{{MSG}}}Location", 0, 1),
]
RESPONSE: Seq = [
    (f"{{{RM}}}PrecedingResourceInfoElementID", 1, 1), (f"{{{RM}}}ResponseType", 1, 1),
    (f"{{{RM}}}ReasonCode", 0, 1), (f"{{{RM}}}ResponseReason", 0, 1),
]
MEASURED: Seq = [(f"{{{RM}}}Amount", 1, 1), (f"{{{RM}}}UnitOfMeasure", 0, 1)]
SCHEDULE_TYPES = {"RequestedArrival", "EstimatedArrival", "ActualArrival", "RequestedDeparture",
                  "EstimatedDeparture", "ActualDeparture", "BeginAvailable", "EndAvailable",
                  "Committed", "Current", "ReportTo", "Route"}
DATETIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"


def conforms(el: ET.Element, seq: Seq) -> None:
    """`el`'s children follow `seq`: known names, schema order, cardinalities."""
    names = [child.tag for child in el]
    order = [name for name, _lo, _hi in seq]
    assert all(n in order for n in names), f"unexpected child of {el.tag}: {names}"
    positions = [order.index(n) for n in names]
    assert positions == sorted(positions), f"children of {el.tag} out of order: {names}"
    for name, lo, hi in seq:
        count = names.count(name)
        assert count >= lo and (hi is None or count <= hi), f"{name} x{count} in {el.tag}"


def check_message(msg: ET.Element) -> None:
    import re

    conforms(msg, MESSAGE)
    assert msg.findtext(f"{{{MSG}}}MessageContentType") == msg.tag.split("}")[1]
    assert re.fullmatch(DATETIME, msg.findtext(f"{{{MSG}}}SentDateTime") or "")
    for info in msg.iter(f"{{{MSG}}}ResourceInformation"):
        conforms(info, RESOURCE_INFORMATION)
        for child, seq in ((f"{{{MSG}}}Resource", RESOURCE),
                           (f"{{{MSG}}}AssignmentInformation", ASSIGNMENT),
                           (f"{{{MSG}}}ResponseInformation", RESPONSE)):
            for el in info.findall(child):
                conforms(el, seq)
        for schedule in info.findall(f"{{{MSG}}}ScheduleInformation"):
            conforms(schedule, SCHEDULE)
            assert schedule.findtext(f"{{{MSG}}}ScheduleType") in SCHEDULE_TYPES
            when = schedule.findtext(f"{{{MSG}}}DateTime")
            assert when is None or re.fullmatch(DATETIME, when)
        for measured in info.iter(f"{{{RM}}}MeasuredQuantity"):
            conforms(measured, MEASURED)


def export(store: Store, rid: str) -> ET.Element:
    out = io.StringIO()
    edxl.write_need(store, *parse_record_id(rid), out, now=NOW)
    return ET.fromstring(out.getvalue().split("\n", 1)[1])


def splints_id(store: Store) -> str:
    return next(row["id"] for row in q.list_objects(store, q.Filters(kind="need"), NOW)
                if row["text"].startswith("splints"))


def test_need_with_pledges_as_edxl_rm(port: Store) -> None:
    rid = splints_id(port)
    need = q.get_object(port, rid, NOW)
    root = export(port, rid)
    assert root.tag == f"{{{DE}}}EDXLDistribution"
    conforms(root, DISTRIBUTION)
    objects = root.findall(f"{{{DE}}}contentObject")
    messages = []
    for content in objects:
        conforms(content, CONTENT_OBJECT)
        embedded = content.find(f"{{{DE}}}xmlContent/{{{DE}}}embeddedXMLContent")
        assert embedded is not None and len(embedded) == 1
        check_message(embedded[0])
        messages.append(embedded[0])
    request, commits = messages[0], messages[1:]
    assert request.tag == f"{{{MSG}}}RequestResource"
    assert [c.tag for c in commits] == [f"{{{MSG}}}CommitResource"] * 2
    request_id = request.findtext(f"{{{MSG}}}MessageID")
    assert request_id and request_id.endswith(rid)
    amount = f"{{{MSG}}}ResourceInformation/{{{MSG}}}AssignmentInformation/{{{MSG}}}Quantity/" \
             f"{{{RM}}}MeasuredQuantity/{{{RM}}}Amount"
    assert request.findtext(amount) == "60"
    arrival = request.find(f".//{{{MSG}}}ScheduleInformation")
    assert arrival is not None
    assert arrival.findtext(f"{{{MSG}}}DateTime") == edxl.stamp(need["needed_by"])
    assert arrival.findtext(f"{{{MSG}}}Location/{{{RM}}}LocationDescription") == "Ward B"
    assert "acceptable substitutes: plaster casts" in (
        request.findtext(f".//{{{MSG}}}Resource/{{{MSG}}}Description") or "")
    by_id = {p["id"]: p for p in need["pledge_list"]}
    for commit in commits:
        assert commit.findtext(f"{{{MSG}}}OriginatingMessageID") == request_id
        assert commit.findtext(f"{{{MSG}}}PrecedingMessageID") == request_id
        pledge = by_id[(commit.findtext(f"{{{MSG}}}MessageID") or "").rsplit(":", 1)[1]]
        assert commit.findtext(amount) == str(pledge["qty"])
        response = f"{{{MSG}}}ResourceInformation/{{{MSG}}}ResponseInformation/"
        assert commit.findtext(response + f"{{{RM}}}ResponseType") == "Accept"
        assert commit.findtext(response + f"{{{RM}}}PrecedingResourceInfoElementID") == "1"
        kinds = [s.findtext(f"{{{MSG}}}ScheduleType") for s in commit.iter(
            f"{{{MSG}}}ScheduleInformation")]
        if pledge["status"] == "delivered":
            assert "ActualArrival" in kinds and "EstimatedArrival" in kinds
        else:
            assert kinds == []  # no deadline given, not delivered
    assert sorted(by_id) == sorted((c.findtext(f"{{{MSG}}}MessageID") or "").rsplit(":", 1)[1]
                                   for c in commits)


def test_need_without_pledges_and_refusals(port: Store) -> None:
    blankets = next(row for row in q.list_objects(port, q.Filters(kind="need"), NOW)
                    if row["text"].startswith("blankets"))
    root = export(port, blankets["id"])
    conforms(root, DISTRIBUTION)
    assert len(root.findall(f"{{{DE}}}contentObject")) == 1
    location = root.find(f".//{{{RM}}}LocationDescription")
    assert location is not None and location.text == "School shelter (44.35012, 8.52140)"
    offer = q.list_objects(port, q.Filters(kind="offer"), NOW)[0]["id"]
    with pytest.raises(ActionError, match="not a need"):
        export(port, offer)
    with pytest.raises(ActionError, match="no need with id"):
        export(port, "deadbeef-9")


def test_offer_as_offer_unsolicited_resource(port: Store) -> None:
    blanks = next(row for row in q.list_objects(port, q.Filters(kind="offer"), NOW)
                  if row["text"].startswith("cast aluminium"))
    out = io.StringIO()
    edxl.write_need(port, *parse_record_id(blanks["id"]), out, now=NOW, kind="offer")
    root = ET.fromstring(out.getvalue().split("\n", 1)[1])
    conforms(root, DISTRIBUTION)
    (content,) = root.findall(f"{{{DE}}}contentObject")
    embedded = content.find(f"{{{DE}}}xmlContent/{{{DE}}}embeddedXMLContent")
    assert embedded is not None
    msg = embedded[0]
    assert msg.tag == f"{{{MSG}}}OfferUnsolicitedResource"
    check_message(msg)
    kinds = [s.findtext(f"{{{MSG}}}ScheduleType") for s in msg.iter(
        f"{{{MSG}}}ScheduleInformation")]
    assert kinds == ["BeginAvailable", "EndAvailable"] * 2  # its two windows
    description = msg.findtext(f".//{{{MSG}}}Resource/{{{MSG}}}Description") or ""
    assert "capacity, 60 pcs per day" in description and "needs as input: metal" in description
    with pytest.raises(ActionError, match="not a need"):
        edxl.write_need(port, *parse_record_id(blanks["id"]), io.StringIO(), now=NOW)
