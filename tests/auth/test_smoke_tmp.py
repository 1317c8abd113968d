def test_login_page(client):
    r = client.get("/login")
    assert r.status_code == 200

def test_login_as(client, login_as):
    login_as("hq")
    r = client.get("/stations/")
    assert r.status_code == 200, r.data[:2000]
    r = client.get("/")
    assert r.status_code == 200
