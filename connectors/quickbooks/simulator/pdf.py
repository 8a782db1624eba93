"""A small, valid one-page PDF of an invoice, as QBO's ``/invoice/{id}/pdf`` returns."""

from __future__ import annotations

from typing import Any


def _escape(text: str) -> str:
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def invoice_pdf(invoice: dict[str, Any], company_name: str) -> bytes:
    lines = [
        company_name,
        f"Invoice {invoice.get('DocNumber', invoice.get('Id'))}",
        f"Customer: {invoice.get('CustomerRef', {}).get('name', '')}",
        f"Date: {invoice.get('TxnDate', '')}   Due: {invoice.get('DueDate', '')}",
        f"Total: {invoice.get('TotalAmt')} {invoice.get('CurrencyRef', {}).get('value', '')}",
        f"Balance due: {invoice.get('Balance')}",
    ]
    text = "BT /F1 14 Tf 72 740 Td 18 TL " + " ".join(f"({_escape(line)}) '" for line in lines) + " ET"
    stream = text.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
