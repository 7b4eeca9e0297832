defmodule ShortyTest do
  use ExUnit.Case, async: false

  test "codes round-trip through the codec" do
    for n <- [0, 1, 61, 62, 125, 1_000_000] do
      assert {:ok, ^n} = n |> Shorty.Codec.encode() |> Shorty.Codec.decode()
    end
  end

  test "a link is stale after the given days" do
    link = %{Shorty.Link.new("a", "https://x.io") | created_at: ~U[2024-01-01 00:00:00Z]}
    assert Shorty.Link.stale?(link, 30, ~U[2024-03-01 00:00:00Z])
  end
end
