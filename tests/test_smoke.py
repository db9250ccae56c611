from ceasefire.models.enums import Role


def test_caseworker_creates_and_invites_over_api(users, api_as, make_forum):
    api = api_as(users["caseworker"])
    status, body = api.post("/participants", json={"first_name": "Ann", "last_name": "Lee", "consent_to_share": True})
    assert status == 201, body
    assert body["state"] == "identified"
    assert body["version"] == 1
    forum = make_forum()
    status, body = api.post(f"/participants/{body['id']}/events",
                            json={"event": "invite", "version": 1, "forum_id": forum.id, "method": "letter"})
    assert status == 200, body
    assert body["state"] == "invited"
    assert body["version"] == 2
    status, hist = api.get(f"/participants/{body['id']}/history")
    assert [h["event"] for h in hist["items"]] == ["create", "invite"]
    assert Role.CASEWORKER
