"""Photos (DESIGN §5.5): PUT whole, PATCH in pieces with Content-Range, HEAD for Upload-Offset, GET."""

from flask import request, send_file
from flask.views import MethodView

from app.auth import current_user, requires
from app.blueprint import Blueprint
from app.errors import INFLATED, Problem, answered_as
from app.services import attachments
from schemas.patterns import SHA256_HEX

blp = Blueprint("attachments", __name__, url_prefix="/api/v1/attachments", description="Photos")

BYTES = {"type": "string", "format": "binary"}
PHOTO_BODY = {"required": True, "content": {kind: {"schema": BYTES} for kind in attachments.CONTENT_TYPES}}
UPLOAD_OFFSET = {"Upload-Offset": {"description": "Bytes of the photo the server holds", "schema": {"type": "integer"}}}
CONTENT_RANGE = {"in": "header", "name": "Content-Range", "required": True,
                 "description": "`bytes START-END/TOTAL`; START is the server's Upload-Offset",
                 "schema": {"type": "string", "pattern": r"^bytes [0-9]+-[0-9]+/[0-9]+$"}}
# A photo's name is the lower-case hex SHA-256 of its bytes; any other is not found (404).
SHA256_NAME = {"in": "path", "name": "sha256", "schema": {"type": "string", "pattern": f"^{SHA256_HEX}$"}}
NOT_A_NAME = "Not a lower-case hex SHA-256"
NOT_AN_IMAGE = ("Not image/jpeg, image/png or image/webp (unsupported-media-type), or the bytes are not an image "
                "of that type (not-an-image)")


def photo_responses(func):
    """The photo's bytes, in the type it was uploaded as."""
    for kind in reversed(attachments.CONTENT_TYPES):
        func = blp.alt_response(200, schema=BYTES, content_type=kind, success=True,
                                description="The photo's bytes")(func)
    return func


def _check_length() -> None:
    # A photo's length is checked before a byte is read; an inflated body has none until then.
    if INFLATED in request.environ:
        raise Problem("unsupported-media-type", "Send a photo as it is, without Content-Encoding: JPEG, PNG and "
                                                "WebP are compressed already.")
    attachments.check_size(request.content_length)


def _body_stream():
    # Photos may be up to 15 MB, over the 5 MB limit for everything else; the size is
    # checked from Content-Length before a byte is read.
    request.max_content_length = attachments.MAX_BYTES
    return request.stream


@blp.route("/<string:sha256>", parameters=[SHA256_NAME])
class AttachmentBySha(MethodView):
    @requires()
    @photo_responses
    @blp.alt_response(304, description="Not modified (If-None-Match)")
    @blp.alt_response(404, description="No such photo, or not yours to see")
    def get(self, sha256: str):
        """A photo, to those who sent it and those allowed to see a report by one of them that uses it."""
        stored = attachments.readable(current_user(), sha256)
        return send_file(attachments.blob_path(sha256), mimetype=stored.content_type, max_age=31536000,
                         etag=sha256, conditional=True)

    @requires()
    @blp.response(200, description="Upload-Offset: the bytes held so far", headers={
        **UPLOAD_OFFSET, "Upload-Length": {"description": "The whole photo's size, once known",
                                           "schema": {"type": "integer"}}})
    @blp.alt_response(404, description=NOT_A_NAME)
    def head(self, sha256: str):
        """How much of this photo the server holds from you (resume a broken upload from there)."""
        state = attachments.progress(current_user(), sha256)
        headers = {"Upload-Offset": str(state.offset), "Cache-Control": "no-store"}
        if state.total is not None:
            headers["Upload-Length"] = str(state.total)
        return "", 200, headers

    @requires()
    @blp.doc(requestBody=PHOTO_BODY)
    @blp.response(201, description="Stored", headers=UPLOAD_OFFSET)
    @blp.alt_response(200, description="Already there", success=True, headers=UPLOAD_OFFSET)
    @blp.alt_response(400, description=answered_as("The bytes do not hash to the name", "photo-hash-mismatch"))
    @blp.alt_response(404, description=NOT_A_NAME)
    @blp.alt_response(411, description="No Content-Length")
    @blp.alt_response(413, description=answered_as("Over 15 MB", "photo-too-large"))
    @blp.alt_response(415, description=NOT_AN_IMAGE)
    def put(self, sha256: str):
        """Upload a whole photo; its name is the SHA-256 of its bytes."""
        _check_length()
        created = attachments.put_whole(current_user(), sha256, request.content_type, request.content_length,
                                        _body_stream())
        return "", 201 if created else 200, {"Upload-Offset": str(request.content_length)}

    @requires()
    @blp.doc(requestBody=PHOTO_BODY, parameters=[CONTENT_RANGE])
    @blp.response(204, description="Piece stored; Upload-Offset says how much is held", headers=UPLOAD_OFFSET)
    @blp.alt_response(201, description="The last piece: the photo is stored", success=True, headers=UPLOAD_OFFSET)
    @blp.alt_response(200, description="The last piece, or any piece once you sent it all: the photo was there "
                      "already", success=True, headers=UPLOAD_OFFSET)
    @blp.alt_response(400, description=answered_as("No or a bad Content-Range, or the whole does not hash to the name",
                                                    "bad-request", "photo-hash-mismatch"))
    @blp.alt_response(404, description=NOT_A_NAME)
    @blp.alt_response(409, description=answered_as(
        "START is not where the server is (Upload-Offset says where), or an upload of another TOTAL is open",
        "upload-offset-mismatch", "upload-length-mismatch"))
    @blp.alt_response(411, description="No Content-Length")
    @blp.alt_response(413, description=answered_as("Over 15 MB", "photo-too-large"))
    @blp.alt_response(415, description=NOT_AN_IMAGE)
    @blp.alt_response(429, description=answered_as("A new upload while 20 of yours are open; Retry-After says when "
                                                    "to try", "too-many-open-uploads"))
    def patch(self, sha256: str):
        """Upload a piece: `Content-Range: bytes START-END/TOTAL`, START = the server's Upload-Offset."""
        _check_length()
        state = attachments.put_piece(current_user(), sha256, request.content_type,
                                      request.headers.get("Content-Range"), request.content_length, _body_stream())
        status = 201 if state.created else 200 if state.complete else 204
        return "", status, {"Upload-Offset": str(state.offset)}
