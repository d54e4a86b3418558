from __future__ import annotations

import pytest

from tests.conftest import Project

LINK = {
    "destinationUrl": "https://shop.example/pricing",
    "campaignId": "spring26",
    "source": "linkedin",
    "medium": "dm",
    "content": "hero",
    "leadId": "lead_42",
}


def create(project: Project, **fields: object) -> dict[str, object]:
    response = project.client.post("/api/v1/links", headers=project.headers, json=fields)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_create_link_returns_short_url_and_context(project: Project) -> None:
    body = create(project, **LINK)
    assert str(body["id"]).startswith("lnk_")
    assert body["url"] == f"https://bnt.example/l/{body['key']}"
    assert body["destinationUrl"] == LINK["destinationUrl"]
    assert body["campaignId"] == "spring26" and body["leadId"] == "lead_42"
    assert body["source"] == "linkedin" and body["medium"] == "dm" and body["content"] == "hero"
    assert body["clicks"] == 0 and body["createdAt"] and body["archivedAt"] is None


def test_custom_key_and_conflict(project: Project) -> None:
    assert create(project, destinationUrl="https://a.example", key="launch")["key"] == "launch"
    again = project.client.post(
        "/api/v1/links",
        headers=project.headers,
        json={"destinationUrl": "https://b.example", "key": "launch"},
    )
    assert again.status_code == 409
    assert "already used" in again.json()["error"]["message"]


def test_a_key_taken_meanwhile_is_a_conflict(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests for the same custom key at the same moment both find it free; the unique
    index refuses the second, which must be a 409 like any taken key, not a 500."""
    from bantico.links import service

    first = create(project, destinationUrl="https://a.example", key="launch")
    other = create(project, destinationUrl="https://b.example", key="other")
    monkeypatch.setattr(service, "_key_taken", lambda session, key: False)
    for reply in (
        project.client.post(
            "/api/v1/links",
            headers=project.headers,
            json={"destinationUrl": "https://c.example", "key": "launch"},
        ),
        project.client.patch(
            f"/api/v1/links/{other['id']}", headers=project.headers, json={"key": "launch"}
        ),
    ):
        assert reply.status_code == 409, reply.text
        assert "already used" in reply.json()["error"]["message"]
    listed = project.client.get("/api/v1/links", headers=project.headers).json()
    keys = sorted(link["key"] for link in listed["items"])
    assert keys == ["launch", "other"] and first["key"] == "launch"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("javascript:alert(1)", "http:// or https://"),
        ("ftp://files.example/x", "http:// or https://"),
        ("https://", "needs a host"),
        ("shop.example", "http:// or https://"),
    ],
)
def test_destination_must_be_http(project: Project, url: str, fragment: str) -> None:
    response = project.client.post(
        "/api/v1/links", headers=project.headers, json={"destinationUrl": url}
    )
    assert response.status_code == 422
    assert fragment in response.json()["error"]["message"]
    assert "destinationUrl" in response.json()["error"]["message"]


def test_bad_requests_are_explained(project: Project) -> None:
    c, h = project.client, project.headers
    missing = c.post("/api/v1/links", headers=h, json={"source": "x"})
    assert missing.status_code == 422 and "destinationUrl" in missing.json()["error"]["message"]
    typo = c.post(
        "/api/v1/links", headers=h, json={"destinationUrl": "https://a.example", "campaign": "x"}
    )
    assert typo.status_code == 422 and "campaign" in typo.json()["error"]["message"]
    broken = c.post(
        "/api/v1/links", headers={**h, "content-type": "application/json"}, content=b"{not json"
    )
    assert broken.status_code == 400
    bad_key = c.post(
        "/api/v1/links", headers=h, json={"destinationUrl": "https://a.example", "key": "no spaces"}
    )
    assert bad_key.status_code == 422 and "key" in bad_key.json()["error"]["message"]


def test_secret_key_is_required(project: Project) -> None:
    c = project.client
    assert c.get("/api/v1/links").status_code == 401
    wrong = c.get("/api/v1/links", headers={"Authorization": "Bearer bsk_nope"})
    assert wrong.status_code == 401
    assert c.get("/api/v1/links", headers={"Authorization": project.token}).status_code == 401


def test_list_get_patch_and_archive(project: Project) -> None:
    c, h = project.client, project.headers
    first = create(project, **LINK)
    second = create(project, destinationUrl="https://shop.example/", source="x")
    listed = c.get("/api/v1/links", headers=h).json()["items"]
    assert [item["id"] for item in listed] == [second["id"], first["id"]]

    patched = c.patch(
        f"/api/v1/links/{first['id']}",
        headers=h,
        json={"medium": "email", "leadId": None, "content": ""},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["medium"] == "email"
    assert patched.json()["leadId"] is None and patched.json()["content"] is None
    assert patched.json()["campaignId"] == "spring26"
    cleared = c.patch(f"/api/v1/links/{first['id']}", headers=h, json={"destinationUrl": None})
    assert cleared.status_code == 422

    archived = c.delete(f"/api/v1/links/{first['id']}", headers=h)
    assert archived.status_code == 200 and archived.json()["archivedAt"]
    assert [i["id"] for i in c.get("/api/v1/links", headers=h).json()["items"]] == [second["id"]]
    everything = c.get("/api/v1/links?includeArchived=true", headers=h).json()["items"]
    assert len(everything) == 2
    assert c.get(f"/api/v1/links/{first['id']}", headers=h).json()["archivedAt"]


def test_links_of_other_projects_are_invisible(project: Project, client: object) -> None:
    from tests.factories import make_project

    link = create(project, **LINK)
    session = project.client.app.state.sessionmaker()  # type: ignore[attr-defined]
    other = make_project(session, name="Other")
    session.commit()
    session.close()
    headers = {"Authorization": f"Bearer {other.secret_key}"}
    assert project.client.get(f"/api/v1/links/{link['id']}", headers=headers).status_code == 404
    assert project.client.get("/api/v1/links", headers=headers).json()["items"] == []


def test_openapi_documents_the_links_api(project: Project) -> None:
    paths = project.client.get("/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/links"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/links/{link_id}"])
