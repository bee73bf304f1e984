def test_app_starts_and_home_answers(client):
    assert client.get("/").status_code == 200
