"""The look shared by the notices' HTML bodies (notice_texts.py, account_texts.py): a paragraph and a button."""

BUTTON = """<p style="margin:28px 0"><a href="{{ link }}" style="background:#1d4ed8;color:#ffffff;padding:12px 24px;\
border-radius:6px;text-decoration:none;font-size:16px;font-weight:bold;display:inline-block">"""
P = '<p style="font-size:16px;line-height:1.5">'
